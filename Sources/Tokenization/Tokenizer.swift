/// Turns text into token ids and back, as llama.cpp does for a GGUF vocabulary.
public protocol Tokenizer: Sendable {
    /// Encodes `text`.
    ///
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the vocabulary's `addBOS`/`addEOS` ask.
    ///   - parseSpecial: also recognise control tokens (e.g. `<|im_start|>`) written in
    ///     the text. User-defined tokens are always recognised.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int]
    /// Decodes ids to text; control tokens are rendered only if `renderControlTokens`.
    ///
    /// Invalid UTF-8 in the joined bytes (e.g. a sequence cut inside a character) becomes U+FFFD.
    func decode(_ ids: [Int], renderControlTokens: Bool) -> String
    var vocabulary: TokenizerVocabulary { get }
}

extension Tokenizer {
    /// Encodes `text` without recognising control tokens in it (the reference fixtures' setting).
    public func encode(_ text: String, addSpecial: Bool) -> [Int] {
        encode(text, addSpecial: addSpecial, parseSpecial: false)
    }

    /// Decodes ids to text, leaving out control tokens such as BOS and EOS.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, renderControlTokens: false)
    }

    public var vocabularySize: Int { vocabulary.tokens.count }
    public var bosID: Int? { vocabulary.bosID }
    public var eosID: Int? { vocabulary.eosID }
    /// Whether `encode(_:addSpecial: true)` prepends BOS.
    public var addsBOS: Bool { vocabulary.addBOS }
    /// The vocabulary string of `id`, or `nil` when out of range.
    public func tokenString(_ id: Int) -> String? {
        vocabulary.tokens.indices.contains(id) ? vocabulary.tokens[id] : nil
    }
}

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer this module does not implement.
    case unknownModel(name: String, source: String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
    case unknownPreTokenizer(name: String, source: String)
    /// The vocabulary is inconsistent (sizes, ids, merges).
    case invalidVocabulary(source: String, reason: String)
    /// A metadata key is missing or has the wrong type.
    case invalidMetadata(source: String, key: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, source):
            return "\(source): tokenizer.ggml.model = \"\(name)\" is not supported; "
                + "supported are \"gpt2\" (byte-level BPE) and \"llama\" (SentencePiece-style). "
                + "Use a model whose GGUF has one of these tokenizers."
        case let .unknownPreTokenizer(name, source):
            return "\(source): tokenizer.ggml.pre = \"\(name)\" is not supported; supported are "
                + PreTokenizer.supportedNames.map { "\"\($0)\"" }.joined(separator: ", ")
                + ". Add its split rules to PreTokenizer (see llama.cpp's llm_tokenizer_bpe) rather than "
                + "falling back to another rule, which silently changes token ids."
        case let .invalidVocabulary(source, reason):
            return "\(source): invalid tokenizer vocabulary: \(reason). The file may be damaged or "
                + "written by an unusual converter; re-download or re-convert it."
        case let .invalidMetadata(source, key, reason):
            return "\(source): cannot read tokenizer metadata \(key): \(reason). "
                + "Check that this is a GGUF file converted with its tokenizer."
        }
    }
}

/// Builds the right tokenizer for a vocabulary.
public enum Tokenizers {
    /// Chooses the implementation from `vocabulary.model`: `gpt2` → ``ByteLevelBPETokenizer``,
    /// `llama` → ``SentencePieceTokenizer``; anything else throws ``TokenizerError/unknownModel(name:source:)``.
    public static func make(for vocabulary: TokenizerVocabulary) throws(TokenizerError) -> any Tokenizer {
        switch vocabulary.model {
        case "gpt2": return try ByteLevelBPETokenizer(vocabulary: vocabulary)
        case "llama": return try SentencePieceTokenizer(vocabulary: vocabulary)
        default: throw .unknownModel(name: vocabulary.model, source: vocabulary.source)
        }
    }
}
