import Analysis
import Foundation
import Tokenization

/// How a corpus file lays out its text, which decides what a "paragraph" is and which lines are text.
///
/// - `plain` (the default): the spec's rules as written for its corpora (§0.2): a paragraph is one
///   line (blank lines and `= … =` headings skipped); chunks and windows tokenize the whole text
///   with every newline turned into a space.
/// - `wikitext`: WikiText-2 raw. A paragraph is one line; blank lines and `= … =` heading lines
///   are not text, so chunks and windows tokenize the text lines joined by single spaces.
/// - `prose`: a book (Walden, Gutenberg). A paragraph is a run of non-blank lines, joined by
///   single spaces, between blank lines; chunks and windows tokenize the whole text as `plain` does.
public enum CorpusFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case plain, wikitext, prose

    /// The paragraphs of `text` under this format, in file order (CRLF read as LF).
    func paragraphs(_ text: String) -> [String] {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        func isHeading(_ line: Substring) -> Bool {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("=") && trimmed.hasSuffix("=")
        }
        switch self {
        case .plain, .wikitext:
            return lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !isHeading($0) }.map(String.init)
        case .prose:
            var paragraphs: [String] = [], current: [String] = []
            for line in lines {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty {
                    if !current.isEmpty { paragraphs.append(current.joined(separator: " ")); current = [] }
                } else {
                    current.append(trimmed)
                }
            }
            if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
            return paragraphs
        }
    }

    /// The running text chunks and windows are cut from.
    func runningText(_ text: String) -> String {
        switch self {
        case .plain, .prose:
            return text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ")
        case .wikitext:
            return paragraphs(text).joined(separator: " ")
        }
    }
}

/// How each paper draws its sequences from a corpus (claims spec §0.2).
public enum CorpusSampling {
    /// TD's corpus W: paragraph lines of WikiText, skipping blank and `= … =` heading lines;
    /// each tokenized without special tokens (BOS prepended only if the model's metadata asks
    /// for it), lines with at least `tokens` tokens kept and cut to that length, the first
    /// `count` in file order.
    public static func paragraphs(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int,
                                  format: CorpusFormat = .plain) throws -> [[Int]] {
        var sequences: [[Int]] = []
        for paragraph in format.paragraphs(text) {
            var ids = tokenizer.encode(paragraph, addSpecial: false)
            if tokenizer.addsBOS, let bos = tokenizer.bosID { ids.insert(bos, at: 0) }
            guard ids.count >= tokens else { continue }
            sequences.append(Array(ids.prefix(tokens)))
            if sequences.count == count { return sequences }
        }
        throw ClaimError.insufficientData("the corpus has only \(sequences.count) paragraphs of ≥ \(tokens) tokens, \(count) requested")
    }

    /// LoT's pseudo-sentences: the whole text with newlines turned into spaces (CRLF read
    /// as one newline, as Python's universal newlines do), tokenized once, split in order
    /// into non-overlapping `tokens`-token chunks; the trailing partial chunk is dropped.
    public static func chunks(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int,
                              format: CorpusFormat = .plain) throws -> [[Int]] {
        let flat = format.runningText(text)
        let ids = tokenizer.encode(flat, addSpecial: false)
        let available = ids.count / tokens
        guard available >= count else {
            throw ClaimError.insufficientData("\(ids.count) tokens make \(available) chunks of \(tokens), \(count) requested")
        }
        let bos = tokenizer.addsBOS ? tokenizer.bosID : nil
        return (0..<count).map { k in
            let chunk = Array(ids[k * tokens ..< (k + 1) * tokens])
            return bos.map { [$0] + chunk } ?? chunk
        }
    }

    /// SR's random windows: `count` windows of `tokens` tokens at seeded uniform offsets of
    /// the tokenized text (BOS prepended when the model asks for it).
    public static func windows(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int, seed: UInt64,
                               format: CorpusFormat = .plain) throws -> [[Int]] {
        let flat = format.runningText(text)
        let ids = tokenizer.encode(flat, addSpecial: false)
        guard ids.count > tokens else { throw ClaimError.insufficientData("corpus shorter than one window") }
        var rng = PCG64(seed: seed)
        let bos = tokenizer.addsBOS ? tokenizer.bosID : nil
        return (0..<count).map { _ in
            let start = rng.nextInt(below: ids.count - tokens)
            let window = Array(ids[start ..< start + tokens])
            return bos.map { [$0] + window } ?? window
        }
    }
}
