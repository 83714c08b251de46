/// GPT-2-style byte-level BPE (`tokenizer.ggml.model = gpt2`), matching llama.cpp.
///
/// Special tokens are cut out first, the rest is split by the ``PreTokenizer`` named in
/// `tokenizer.ggml.pre`, each piece's UTF-8 bytes start as one symbol each, and adjacent
/// pairs are merged lowest rank first (leftmost on ties).
public struct ByteLevelBPETokenizer: Tokenizer {
    /// The outcome of merging one pair of ids.
    private struct Merge: Sendable {
        let rank: Int32
        let result: Int32
    }

    public let vocabulary: TokenizerVocabulary
    private let preTokenizer: PreTokenizer
    private let specialTokens: SpecialTokenMatcher
    /// Id of the one-symbol token of each byte, or -1 if the vocabulary lacks it.
    private let byteTokenIDs: [Int32]
    /// Keyed by `left << 32 | right` token ids.
    private let merges: [UInt64: Merge]
    private let alphabet = ByteAlphabet.gpt2

    /// Builds the tokenizer; throws on an unknown pre-tokenizer or an inconsistent vocabulary.
    public init(vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        try vocabulary.validate()
        self.vocabulary = vocabulary
        preTokenizer = try PreTokenizer(name: vocabulary.preTokenizer, source: vocabulary.source)
        specialTokens = SpecialTokenMatcher(vocabulary: vocabulary)

        var idOfToken: [String: Int32] = [:]
        idOfToken.reserveCapacity(vocabulary.tokens.count)
        for (id, token) in vocabulary.tokens.enumerated() where idOfToken[token] == nil {
            idOfToken[token] = Int32(id)
        }
        byteTokenIDs = (0...255).map { idOfToken[ByteAlphabet.gpt2.string(forByte: UInt8($0))] ?? -1 }

        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(vocabulary.merges.count)
        for (rank, line) in vocabulary.merges.enumerated() {
            guard let space = line.firstIndex(of: " ") else {
                throw .invalidVocabulary(source: vocabulary.source, reason: "merge \(rank) \"\(line)\" has no space between its two parts")
            }
            let left = String(line[..<space])
            let right = String(line[line.index(after: space)...])
            // A merge whose parts or result are not tokens can never apply to id pairs; llama.cpp
            // would merge and then fall back to bytes, which no real vocabulary relies on.
            guard let leftID = idOfToken[left], let rightID = idOfToken[right],
                  let resultID = idOfToken[left + right] else { continue }
            let key = UInt64(UInt32(bitPattern: leftID)) << 32 | UInt64(UInt32(bitPattern: rightID))
            if table[key] == nil { table[key] = Merge(rank: Int32(rank), result: resultID) }
        }
        merges = table
    }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int] {
        var output: [Int] = []
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bosID { output.append(bos) }
        let bytes = Array(text.utf8)
        var session = MergeSession()
        for fragment in specialTokens.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                encodeText(bytes[range], session: &session, into: &output)
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
            case .userDefined:
                bytes.append(contentsOf: token.utf8)
            default:
                for scalar in token.unicodeScalars {
                    if let byte = alphabet.byte(for: scalar) {
                        bytes.append(byte)
                    } else {
                        bytes.append(contentsOf: String(Character(scalar)).utf8)
                    }
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Pre-tokenizes one text fragment and merges each piece.
    private func encodeText(_ bytes: ArraySlice<UInt8>, session: inout MergeSession, into output: inout [Int]) {
        var scalars: [Unicode.Scalar] = []
        var byteOffsets: [Int] = []   // byteOffsets[i] = offset of scalar i; one extra entry at the end
        scalars.reserveCapacity(bytes.count)
        byteOffsets.reserveCapacity(bytes.count + 1)
        var offset = bytes.startIndex
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            scalars.append(scalar)
            byteOffsets.append(offset)
            offset += UTF8.width(scalar)
        }
        byteOffsets.append(offset)
        for piece in preTokenizer.split(scalars) {
            let pieceBytes = bytes[byteOffsets[piece.lowerBound]..<byteOffsets[piece.upperBound]]
            mergePiece(pieceBytes, session: &session, into: &output)
        }
    }

    /// Reusable buffers for merging, so pieces do not allocate.
    private struct MergeSession {
        var ids: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        /// Entries are `rank << 32 | left symbol index`: lowest rank first, then leftmost.
        var queue = PriorityQueue<UInt64>(isHigherPriority: <)
    }

    private func merge(_ left: Int32, _ right: Int32) -> Merge? {
        merges[UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))]
    }

    private func mergePiece(_ bytes: ArraySlice<UInt8>, session s: inout MergeSession, into output: inout [Int]) {
        let count = bytes.count
        s.ids.removeAll(keepingCapacity: true)
        s.previous.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.queue.removeAll()
        for (index, byte) in bytes.enumerated() {
            s.ids.append(byteTokenIDs[Int(byte)])
            s.previous.append(Int32(index - 1))
            s.next.append(index + 1 < count ? Int32(index + 1) : -1)
        }
        func enqueue(_ left: Int32, _ right: Int32, _ s: inout MergeSession) {
            guard left >= 0, right >= 0, let merge = merge(s.ids[Int(left)], s.ids[Int(right)]) else { return }
            s.queue.push(UInt64(merge.rank) << 32 | UInt64(left))
        }
        for index in 1..<max(count, 1) { enqueue(Int32(index - 1), Int32(index), &s) }

        while let entry = s.queue.pop() {
            let rank = Int32(truncatingIfNeeded: entry >> 32)
            let left = Int(UInt32(truncatingIfNeeded: entry))
            let right = s.next[left]
            // Stale when the left symbol was absorbed (ids[-] = -2), or its pair has changed.
            guard s.ids[left] != -2, right >= 0,
                  let merge = merge(s.ids[left], s.ids[Int(right)]), merge.rank == rank else { continue }
            s.ids[left] = merge.result
            s.ids[Int(right)] = -2
            let after = s.next[Int(right)]
            s.next[left] = after
            if after >= 0 { s.previous[Int(after)] = Int32(left) }
            enqueue(s.previous[left], Int32(left), &s)
            enqueue(Int32(left), after, &s)
        }

        var index: Int32 = count > 0 ? 0 : -1
        while index >= 0 {
            let id = s.ids[Int(index)]
            if id >= 0 {
                output.append(Int(id))
            } else if let unknown = vocabulary.unknownID {
                output.append(unknown)   // a byte missing from the vocabulary; cannot happen in a complete one
            }
            index = s.next[Int(index)]
        }
    }
}
