import Analysis
import Tokenization

/// How each paper draws its sequences from a corpus (claims spec §0.2).
public enum CorpusSampling {
    /// TD's corpus W: paragraph lines of WikiText, skipping blank and `= … =` heading lines;
    /// each tokenized without special tokens (BOS prepended only if the model's metadata asks
    /// for it), lines with at least `tokens` tokens kept and cut to that length, the first
    /// `count` in file order.
    public static func paragraphs(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int) throws -> [[Int]] {
        var sequences: [[Int]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || (trimmed.hasPrefix("=") && trimmed.hasSuffix("=")) { continue }
            var ids = tokenizer.encode(String(line), addSpecial: false)
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
    public static func chunks(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int) throws -> [[Int]] {
        let flat = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ")
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
    public static func windows(_ text: String, tokenizer: any Tokenizer, count: Int, tokens: Int, seed: UInt64) throws -> [[Int]] {
        let flat = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: " ")
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
