/// SentencePiece-style tokenizer (`tokenizer.ggml.model = llama`, e.g. Gemma 3), matching llama.cpp.
///
/// User-defined tokens are cut out first; in the remaining text spaces become "▁"
/// (U+2581), the UTF-8 characters are merged greedily by the score of the token their
/// concatenation forms (highest first, leftmost on ties), and characters no token covers
/// become byte tokens `<0xXX>`.
public struct SentencePieceTokenizer: Tokenizer {
    public let vocabulary: TokenizerVocabulary
    private let specialTokens: SpecialTokenMatcher
    private let idOfToken: [String: Int32]
    /// Id of `<0xXX>` for each byte, or the unknown id (-1 if none).
    private let byteTokenIDs: [Int32]

    private static let escapedSpace: [UInt8] = Array("\u{2581}".utf8)

    /// Builds the tokenizer; throws if the vocabulary is inconsistent or has no scores.
    public init(vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        try vocabulary.validate()
        guard vocabulary.scores.count == vocabulary.tokens.count else {
            throw .invalidVocabulary(source: vocabulary.source, reason: "a SentencePiece vocabulary needs tokenizer.ggml.scores, one per token")
        }
        self.vocabulary = vocabulary
        specialTokens = SpecialTokenMatcher(vocabulary: vocabulary)
        var table: [String: Int32] = [:]
        table.reserveCapacity(vocabulary.tokens.count)
        for (id, token) in vocabulary.tokens.enumerated() where table[token] == nil {
            table[token] = Int32(id)
        }
        idOfToken = table
        let unknown = Int32(vocabulary.unknownID ?? -1)
        byteTokenIDs = (0...255).map { byte in
            table["<0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) + ">"] ?? unknown
        }
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        var output: [Int] = []
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bosID { output.append(bos) }
        let bytes = Array(text.utf8)
        var previousWasSpecial = true   // the start of the input counts as after a special token
        for fragment in specialTokens.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let range):
                var escaped: [UInt8] = []
                escaped.reserveCapacity(range.count + 8)
                if vocabulary.addSpacePrefix && previousWasSpecial { escaped.append(contentsOf: Self.escapedSpace) }
                for byte in bytes[range] {
                    if byte == 0x20 { escaped.append(contentsOf: Self.escapedSpace) } else { escaped.append(byte) }
                }
                mergeCharacters(escaped, into: &output)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eosID { output.append(eos) }
        return output
    }

    public func decode(_ ids: [Int], renderControlTokens: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids where vocabulary.tokens.indices.contains(id) {
            let token = vocabulary.tokens[id]
            switch vocabulary.type(of: id) {
            case .control, .unknown:
                if renderControlTokens { bytes.append(contentsOf: token.utf8) }
            case .byte:
                if let byte = Self.byteValue(of: token) { bytes.append(byte) } else { bytes.append(contentsOf: token.utf8) }
            case .userDefined:
                bytes.append(contentsOf: token.utf8)
            default:
                for scalar in token.unicodeScalars {
                    if scalar == "\u{2581}" { bytes.append(0x20) } else { bytes.append(contentsOf: String(Character(scalar)).utf8) }
                }
            }
        }
        if vocabulary.addSpacePrefix && bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The byte of a `<0xXX>` token.
    private static func byteValue(of token: String) -> UInt8? {
        guard token.hasPrefix("<0x"), token.hasSuffix(">"), token.utf8.count == 6 else { return nil }
        return UInt8(token.dropFirst(3).dropLast(), radix: 16)
    }

    private struct Bigram {
        let score: Float
        let left: Int32
        let right: Int32
        let length: Int32
    }

    private func tokenID(_ bytes: ArraySlice<UInt8>) -> Int32? {
        idOfToken[String(decoding: bytes, as: UTF8.self)]
    }

    /// llama.cpp's `llm_tokenizer_spm_session`: greedy score-ordered merges over UTF-8 characters.
    private func mergeCharacters(_ text: [UInt8], into output: inout [Int]) {
        guard !text.isEmpty else { return }
        // Symbols are byte ranges [start, start + length); length 0 marks one absorbed by its left neighbour.
        var starts: [Int32] = []
        var lengths: [Int32] = []
        var offset = 0
        while offset < text.count {
            let width = min(Self.utf8Width(leadByte: text[offset]), text.count - offset)
            starts.append(Int32(offset))
            lengths.append(Int32(width))
            offset += width
        }
        let count = starts.count
        var previous = (0..<count).map { Int32($0 - 1) }
        var next = (0..<count).map { $0 + 1 < count ? Int32($0 + 1) : -1 }

        var queue = PriorityQueue<Bigram> { a, b in
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
        func tryAddBigram(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let start = Int(starts[Int(left)])
            let length = Int(lengths[Int(left)] + lengths[Int(right)])
            guard let id = tokenID(text[start..<start + length]) else { return }
            queue.push(Bigram(score: vocabulary.scores[Int(id)], left: left, right: right, length: Int32(length)))
        }
        for index in 1..<count { tryAddBigram(Int32(index - 1), Int32(index)) }

        while let bigram = queue.pop() {
            let left = Int(bigram.left), right = Int(bigram.right)
            // Stale if either side was absorbed or has grown since the pair was queued.
            guard lengths[left] > 0, lengths[right] > 0, lengths[left] + lengths[right] == bigram.length else { continue }
            lengths[left] += lengths[right]
            lengths[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = bigram.left }
            tryAddBigram(previous[left], bigram.left)
            tryAddBigram(bigram.left, next[left])
        }

        // Every merged symbol is a token (a pair is only queued if it forms one), so only
        // single characters can be missing: they fall back to their bytes.
        var index: Int32 = 0
        while index >= 0 {
            let start = Int(starts[Int(index)])
            let symbol = text[start..<start + Int(lengths[Int(index)])]
            if let id = tokenID(symbol) {
                output.append(Int(id))
            } else {
                for byte in symbol where byteTokenIDs[Int(byte)] >= 0 { output.append(Int(byteTokenIDs[Int(byte)])) }
            }
            index = next[Int(index)]
        }
    }

    private static func utf8Width(leadByte: UInt8) -> Int {
        switch leadByte {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
