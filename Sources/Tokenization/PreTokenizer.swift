/// The split of text into pieces that BPE merges never cross, chosen by `tokenizer.ggml.pre`.
///
/// Each variant is a sequence of split rules applied as llama.cpp applies its regexes:
/// every rule runs inside each piece produced so far, and both its matches and the gaps
/// between them become pieces. Implemented as scanners over `Unicode.Scalar` with
/// general-category lookups (no `Regex`, no `Character`).
enum PreTokenizer: Sendable, Equatable {
    /// The GPT-2 rule alone (`gpt2`, and `mpt`, `olmo`, `jais`, which llama.cpp gives the same regex).
    case gpt2
    /// Every numeric code point alone, then the GPT-2 rule (`smollm`, `starcoder`, …).
    case digitsThenGPT2
    /// llama.cpp's fallback for `default` or a missing name: punctuation runs, the GPT-2
    /// rule, number runs, then groups of three ASCII digits.
    case llamaDefault
    /// Qwen2's rule (`qwen2`, and `stablelm2`, which llama.cpp gives the same regex): case-insensitive contractions, letter runs with one optional
    /// leading non-letter, single digits, punctuation runs keeping their trailing line breaks,
    /// and whitespace runs that end at their last line break.
    case qwen2

    /// The `tokenizer.ggml.pre` names accepted, for error messages.
    static let supportedNames = ["default"] + gpt2Names + qwen2Names + digitsThenGPT2Names

    private static let gpt2Names = ["gpt2", "mpt", "olmo", "jais"]
    private static let qwen2Names = ["qwen2", "stablelm2"]

    private static let digitsThenGPT2Names = ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"]

    /// Looks up a `tokenizer.ggml.pre` name; `nil` means the key is absent (llama.cpp uses `default`).
    init(name: String?, source: String) throws(TokenizerError) {
        switch name {
        case nil, "default": self = .llamaDefault
        case let name? where Self.gpt2Names.contains(name): self = .gpt2
        case let name? where Self.qwen2Names.contains(name): self = .qwen2
        case let name? where Self.digitsThenGPT2Names.contains(name): self = .digitsThenGPT2
        case let name?: throw .unknownPreTokenizer(name: name, source: source)
        }
    }

    private var rules: [SplitRule] {
        switch self {
        case .gpt2: return [.gpt2]
        case .digitsThenGPT2: return [.eachNumber, .gpt2]
        case .llamaDefault: return [.punctuationRuns, .gpt2, .numberRuns, .threeASCIIDigits]
        case .qwen2: return [.qwen2]
        }
    }

    /// Splits `scalars` into consecutive, non-empty, covering ranges.
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        guard !scalars.isEmpty else { return [] }
        let classes = scalars.map(ScalarClass.init)
        var pieces = [0..<scalars.count]
        var next: [Range<Int>] = []
        for rule in rules {
            next.removeAll(keepingCapacity: true)
            for piece in pieces {
                rule.split(piece, scalars: scalars, classes: classes, into: &next)
            }
            swap(&pieces, &next)
        }
        return pieces
    }
}

/// The character classes the split rules look at, as llama.cpp's Unicode flags define them.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8
    static let letter = ScalarClass(rawValue: 1)        // \p{L}
    static let number = ScalarClass(rawValue: 2)        // \p{N}
    static let whitespace = ScalarClass(rawValue: 4)    // \s (the White_Space property)
    static let punctuation = ScalarClass(rawValue: 8)   // \p{P}

    private static let ascii: [ScalarClass] = (0..<128).map { ScalarClass(computing: Unicode.Scalar(UInt8($0))) }

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ scalar: Unicode.Scalar) {
        self = scalar.value < 128 ? Self.ascii[Int(scalar.value)] : ScalarClass(computing: scalar)
    }

    private init(computing scalar: Unicode.Scalar) {
        var result: ScalarClass = []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        default:
            break
        }
        if scalar.properties.isWhitespace { result.insert(.whitespace) }
        self = result
    }
}

/// One regex-equivalent step of a pre-tokenizer.
private enum SplitRule {
    case eachNumber          // \p{N}
    case numberRuns          // \p{N}+
    case punctuationRuns     // [\p{P}\$\+<=>\^~\|]+
    case threeASCIIDigits    // [0-9][0-9][0-9]
    case gpt2                // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    /// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    case qwen2

    func split(_ piece: Range<Int>, scalars: [Unicode.Scalar], classes: [ScalarClass], into out: inout [Range<Int>]) {
        let end = piece.upperBound
        switch self {
        case .gpt2:
            splitGPT2(piece, scalars: scalars, classes: classes, into: &out)
        case .qwen2:
            splitQwen2(piece, scalars: scalars, classes: classes, into: &out)
        case .eachNumber:
            splitMatchesAndGaps(piece, into: &out) { position in
                classes[position].contains(.number) ? position + 1 : nil
            }
        case .numberRuns:
            splitMatchesAndGaps(piece, into: &out) { position in
                var cursor = position
                while cursor < end && classes[cursor].contains(.number) { cursor += 1 }
                return cursor > position ? cursor : nil
            }
        case .punctuationRuns:
            func isMember(_ index: Int) -> Bool {
                if classes[index].contains(.punctuation) { return true }
                switch scalars[index] {
                case "$", "+", "<", "=", ">", "^", "~", "|": return true
                default: return false
                }
            }
            splitMatchesAndGaps(piece, into: &out) { position in
                var cursor = position
                while cursor < end && isMember(cursor) { cursor += 1 }
                return cursor > position ? cursor : nil
            }
        case .threeASCIIDigits:
            splitMatchesAndGaps(piece, into: &out) { position in
                guard position + 3 <= end else { return nil }
                for index in position..<position + 3 where !("0"..."9").contains(scalars[index]) { return nil }
                return position + 3
            }
        }
    }

    /// Emits every leftmost non-overlapping match (`matchEnd(at:)` returns its end) and the gaps between.
    private func splitMatchesAndGaps(_ piece: Range<Int>, into out: inout [Range<Int>], matchEnd: (Int) -> Int?) {
        var gapStart = piece.lowerBound
        var position = piece.lowerBound
        while position < piece.upperBound {
            if let end = matchEnd(position) {
                if position > gapStart { out.append(gapStart..<position) }
                out.append(position..<end)
                position = end
                gapStart = end
            } else {
                position += 1
            }
        }
        if gapStart < piece.upperBound { out.append(gapStart..<piece.upperBound) }
    }

    /// The GPT-2 rule as llama.cpp's hand-written scanner applies it.
    ///
    /// Contractions are lowercase ASCII only; the optional prefix is one U+0020; a whitespace
    /// run followed by a non-space leaves its last character to the next piece, but a run
    /// reaching the end of the piece is taken whole.
    private func splitGPT2(_ piece: Range<Int>, scalars: [Unicode.Scalar], classes: [ScalarClass], into out: inout [Range<Int>]) {
        let end = piece.upperBound
        let wordClasses: ScalarClass = [.letter, .number, .whitespace]
        var position = piece.lowerBound
        while position < end {
            let start = position
            let scalar = scalars[position]
            if scalar == "'" && position + 1 < end {
                let next = scalars[position + 1]
                if next == "s" || next == "t" || next == "m" || next == "d" {
                    position += 2
                    out.append(start..<position)
                    continue
                }
                if position + 2 < end {
                    let pair = (next, scalars[position + 2])
                    if pair == ("r", "e") || pair == ("v", "e") || pair == ("l", "l") {
                        position += 3
                        out.append(start..<position)
                        continue
                    }
                }
            }
            let hasSpacePrefix = scalar == " "
            // The class that decides the branch: of the next scalar after an optional space.
            let decidingIndex = hasSpacePrefix ? position + 1 : position
            if decidingIndex < end {
                let deciding = classes[decidingIndex]
                let runClass: ScalarClass? =
                    deciding.contains(.letter) ? .letter : deciding.contains(.number) ? .number : nil
                if let runClass {
                    position = decidingIndex
                    while position < end && classes[position].contains(runClass) { position += 1 }
                    out.append(start..<position)
                    continue
                }
                if deciding.isDisjoint(with: wordClasses) {
                    position = decidingIndex
                    while position < end && classes[position].isDisjoint(with: wordClasses) { position += 1 }
                    out.append(start..<position)
                    continue
                }
            }
            var whitespaceCount = 0
            while position + whitespaceCount < end && classes[position + whitespaceCount].contains(.whitespace) {
                whitespaceCount += 1
            }
            if whitespaceCount > 1 && position + whitespaceCount < end {
                position += whitespaceCount - 1   // \s+(?!\S): leave the last one to the next word
            } else if whitespaceCount > 0 {
                position += whitespaceCount
            } else {
                position += 1                     // no rule matched: one scalar alone
            }
            out.append(start..<position)
        }
    }
    /// The Qwen2 rule as llama.cpp's hand-written scanner applies it (the alternatives are tried
    /// in the order of the regex at each position).
    ///
    /// Contractions match either case of ASCII letters. A letter run may take one leading
    /// scalar that is not a line break, letter or digit (a space, a tab, a bracket…). Digits
    /// stand alone. A punctuation run (with an optional leading U+0020) keeps the CR/LF run that
    /// follows it. A whitespace run containing a line break ends right after its last CR or LF;
    /// otherwise it leaves its last scalar to the next piece unless it reaches the piece's end.
    private func splitQwen2(_ piece: Range<Int>, scalars: [Unicode.Scalar], classes: [ScalarClass], into out: inout [Range<Int>]) {
        let end = piece.upperBound
        let wordClasses: ScalarClass = [.letter, .number, .whitespace]
        /// The class at `index`, empty past the piece (llama.cpp's out-of-range flags).
        func classAt(_ index: Int) -> ScalarClass { index < end ? classes[index] : [] }
        func isLineBreak(_ index: Int) -> Bool { scalars[index] == "\r" || scalars[index] == "\n" }
        func lowercasedASCII(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
            ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }
        var position = piece.lowerBound
        while position < end {
            let start = position
            let scalar = scalars[position]
            if scalar == "'" && position + 1 < end {
                let next = lowercasedASCII(scalars[position + 1])
                if next == "s" || next == "t" || next == "m" || next == "d" {
                    position += 2
                    out.append(start..<position)
                    continue
                }
                if position + 2 < end {
                    let pair = (next, lowercasedASCII(scalars[position + 2]))
                    if pair == ("r", "e") || pair == ("v", "e") || pair == ("l", "l") {
                        position += 3
                        out.append(start..<position)
                        continue
                    }
                }
            }
            let own = classes[position]
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !isLineBreak(position) && !own.contains(.number)
                && (own.contains(.letter) || classAt(position + 1).contains(.letter)) {
                position += 1
                while position < end && classes[position].contains(.letter) { position += 1 }
                out.append(start..<position)
                continue
            }
            // \p{N}
            if own.contains(.number) {
                position += 1
                out.append(start..<position)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*': the class after an optional space decides (empty past the end).
            let deciding = scalar == " " ? classAt(position + 1) : own
            if deciding.isDisjoint(with: wordClasses) {
                if scalar == " " { position += 1 }
                while position < end && classes[position].isDisjoint(with: wordClasses) { position += 1 }
                while position < end && isLineBreak(position) { position += 1 }
                out.append(start..<position)
                continue
            }
            var whitespaceCount = 0
            var afterLastLineBreak: Int?
            while position + whitespaceCount < end && classes[position + whitespaceCount].contains(.whitespace) {
                if isLineBreak(position + whitespaceCount) { afterLastLineBreak = position + whitespaceCount + 1 }
                whitespaceCount += 1
            }
            if let afterLastLineBreak {
                position = afterLastLineBreak                 // \s*[\r\n]+
            } else if whitespaceCount > 1 && position + whitespaceCount < end {
                position += whitespaceCount - 1               // \s+(?!\S)
            } else if whitespaceCount > 0 {
                position += whitespaceCount                   // \s+
            } else {
                position += 1                                 // no rule matched: one scalar alone
            }
            out.append(start..<position)
        }
    }
}
