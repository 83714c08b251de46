/// The kind of a vocabulary entry, as stored in `tokenizer.ggml.token_type`.
///
/// The raw values are llama.cpp's (`LLAMA_TOKEN_TYPE_*`).
public enum TokenType: Int32, Sendable, Hashable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Markers such as BOS/EOS; matched in text only when special parsing is requested.
    case control = 3
    /// Added tokens (e.g. Gemma's newline runs and HTML tags); always matched in text.
    case userDefined = 4
    case unused = 5
    /// SentencePiece byte-fallback tokens `<0xXX>`.
    case byte = 6
}

/// Everything a tokenizer needs from a model file, independent of the file format.
///
/// Field names follow the GGUF `tokenizer.ggml.*` keys. The initializer does not
/// validate; the tokenizers check consistency when they are built and throw
/// ``TokenizerError/invalidVocabulary(source:reason:)``.
public struct TokenizerVocabulary: Sendable {
    /// Where the vocabulary came from (a file path), used in error messages.
    public var source: String
    /// `tokenizer.ggml.model`: `"gpt2"` (byte-level BPE) or `"llama"` (SentencePiece-style).
    public var model: String
    /// `tokenizer.ggml.pre`; `nil` when the file has none (llama.cpp then uses `default`).
    public var preTokenizer: String?
    /// Token strings; the index is the token id.
    public var tokens: [String]
    /// One type per token; empty means every token is ``TokenType/normal``.
    public var tokenTypes: [TokenType]
    /// SentencePiece scores, one per token (empty for BPE vocabularies).
    public var scores: [Float]
    /// BPE merges `"A B"`, highest priority first (empty for SentencePiece vocabularies).
    public var merges: [String]
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// Prepend BOS when encoding with `addSpecial`.
    public var addBOS: Bool
    /// Append EOS when encoding with `addSpecial`.
    public var addEOS: Bool
    /// SentencePiece only: prepend a space to text that starts the input or follows a special token.
    public var addSpacePrefix: Bool

    public init(
        source: String = "in-memory vocabulary",
        model: String,
        preTokenizer: String? = nil,
        tokens: [String],
        tokenTypes: [TokenType] = [],
        scores: [Float] = [],
        merges: [String] = [],
        bosID: Int? = nil,
        eosID: Int? = nil,
        unknownID: Int? = nil,
        paddingID: Int? = nil,
        addBOS: Bool = false,
        addEOS: Bool = false,
        addSpacePrefix: Bool = false
    ) {
        self.source = source
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }

    /// The type of token `id` (``TokenType/normal`` when no types were given).
    public func type(of id: Int) -> TokenType {
        tokenTypes.isEmpty ? .normal : tokenTypes[id]
    }

    /// Checks the array sizes and special ids; throws `invalidVocabulary` naming the problem.
    func validate() throws(TokenizerError) {
        func fail(_ reason: String) -> TokenizerError {
            .invalidVocabulary(source: source, reason: reason)
        }
        if tokens.isEmpty { throw fail("tokenizer.ggml.tokens is empty") }
        if !tokenTypes.isEmpty && tokenTypes.count != tokens.count {
            throw fail("tokenizer.ggml.token_type has \(tokenTypes.count) entries for \(tokens.count) tokens")
        }
        if !scores.isEmpty && scores.count != tokens.count {
            throw fail("tokenizer.ggml.scores has \(scores.count) entries for \(tokens.count) tokens")
        }
        let specials: [(String, Int?)] = [
            ("bos_token_id", bosID), ("eos_token_id", eosID),
            ("unknown_token_id", unknownID), ("padding_token_id", paddingID),
        ]
        for (key, id) in specials {
            if let id, !(0..<tokens.count).contains(id) {
                throw fail("tokenizer.ggml.\(key) = \(id) is outside the vocabulary (0..<\(tokens.count))")
            }
        }
        if addBOS && bosID == nil { throw fail("add_bos_token is true but tokenizer.ggml.bos_token_id is missing") }
        if addEOS && eosID == nil { throw fail("add_eos_token is true but tokenizer.ggml.eos_token_id is missing") }
    }
}
