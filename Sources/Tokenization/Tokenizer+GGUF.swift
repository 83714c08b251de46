import Foundation
import GGUF

extension TokenizerVocabulary {
    /// Reads the `tokenizer.ggml.*` keys of a GGUF file.
    ///
    /// Missing optional keys take llama.cpp's defaults: for `llama` (SentencePiece)
    /// vocabularies `add_bos_token` = true and `add_space_prefix` = true, otherwise false.
    /// Throws ``GGUFError`` for a missing or mistyped key and ``TokenizerError`` for
    /// values that make no sense as a tokenizer (e.g. an unknown token type).
    public init(gguf file: GGUFFile) throws {
        let metadata = file.metadata
        let source = metadata.path
        let model = try metadata.string("tokenizer.ggml.model")
        let isSentencePiece = model == "llama"

        let rawTypes = metadata["tokenizer.ggml.token_type"] == nil ? [] : try metadata.ints("tokenizer.ggml.token_type")
        let types = try rawTypes.enumerated().map { index, raw throws(TokenizerError) -> TokenType in
            guard let type = Int32(exactly: raw).flatMap(TokenType.init(rawValue:)) else {
                throw .invalidVocabulary(source: source, reason: "tokenizer.ggml.token_type[\(index)] = \(raw) is not a known token type (0…6)")
            }
            return type
        }
        func specialID(_ key: String) throws -> Int? {
            try metadata.intIfPresent("tokenizer.ggml.\(key)")
        }

        self.init(
            source: source,
            model: model,
            preTokenizer: try metadata.stringIfPresent("tokenizer.ggml.pre"),
            tokens: try metadata.strings("tokenizer.ggml.tokens"),
            tokenTypes: types,
            scores: metadata["tokenizer.ggml.scores"] == nil ? [] : try metadata.floats("tokenizer.ggml.scores"),
            merges: metadata["tokenizer.ggml.merges"] == nil ? [] : try metadata.strings("tokenizer.ggml.merges"),
            bosID: try specialID("bos_token_id"),
            eosID: try specialID("eos_token_id"),
            unknownID: try specialID("unknown_token_id"),
            paddingID: try specialID("padding_token_id"),
            addBOS: try metadata.boolIfPresent("tokenizer.ggml.add_bos_token") ?? isSentencePiece,
            addEOS: try metadata.boolIfPresent("tokenizer.ggml.add_eos_token") ?? false,
            addSpacePrefix: try metadata.boolIfPresent("tokenizer.ggml.add_space_prefix") ?? isSentencePiece
        )
    }
}

extension Tokenizers {
    /// Builds the tokenizer a GGUF file describes (see ``make(for:)``).
    public static func load(from file: GGUFFile) throws -> any Tokenizer {
        try make(for: TokenizerVocabulary(gguf: file))
    }

    /// Opens a GGUF file and builds its tokenizer.
    public static func load(contentsOf url: URL) throws -> any Tokenizer {
        try load(from: GGUFFile(contentsOf: url))
    }
}
