/// A piece of input after special tokens have been cut out: raw text bytes or one token.
enum Fragment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Cuts special tokens out of text before the model-specific algorithm sees it.
///
/// Follows llama.cpp's `tokenizer_st_partition`: tokens are tried longest first, each one
/// over every remaining text fragment, left to right. User-defined tokens are always
/// candidates; control and unknown tokens only when special parsing is requested.
struct SpecialTokenMatcher: Sendable {
    private struct Candidate: Sendable {
        let id: Int
        let bytes: [UInt8]
        let alwaysMatched: Bool
    }

    private let candidates: [Candidate]

    init(vocabulary: TokenizerVocabulary) {
        var found: [Candidate] = []
        for (id, token) in vocabulary.tokens.enumerated() where !token.isEmpty {
            switch vocabulary.type(of: id) {
            case .userDefined: found.append(Candidate(id: id, bytes: Array(token.utf8), alwaysMatched: true))
            case .control, .unknown: found.append(Candidate(id: id, bytes: Array(token.utf8), alwaysMatched: false))
            default: break
            }
        }
        // Longest first, as llama.cpp; ties by id so the order is deterministic.
        candidates = found.sorted { ($0.bytes.count, -$0.id) > ($1.bytes.count, -$1.id) }
    }

    /// Splits `bytes` into text ranges and special-token fragments, in order.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        for candidate in candidates where candidate.alwaysMatched || parseSpecial {
            let needle = candidate.bytes
            var next: [Fragment] = []
            var changed = false
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var position = range.lowerBound
                let lastStart = range.upperBound - needle.count
                while position <= lastStart {
                    if bytes[position] == needle[0] && matches(needle, in: bytes, at: position) {
                        if position > start { next.append(.text(start..<position)) }
                        next.append(.token(candidate.id))
                        changed = true
                        position += needle.count
                        start = position
                    } else {
                        position += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            if changed { fragments = next }
        }
        return fragments
    }

    private func matches(_ needle: [UInt8], in bytes: [UInt8], at position: Int) -> Bool {
        for offset in 1..<needle.count where bytes[position + offset] != needle[offset] {
            return false
        }
        return true
    }
}
