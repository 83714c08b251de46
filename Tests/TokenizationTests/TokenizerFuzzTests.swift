import Foundation
import Testing
import TestSupport
@testable import Tokenization

/// Seeded, bounded fuzzing of the tokenizers: hostile text through every pre-tokenizer and the
/// SentencePiece merger, and random vocabularies through the builders. Nothing may crash; every
/// id must lie in the vocabulary; encoding is deterministic and decoding gives the text back.
@Suite("Tokenizer fuzzing (seeded)")
struct TokenizerFuzzTests {
    static let textIterations = 400
    static let vocabularyIterations = 300

    /// Scalars that stress splitting, merging and special-token matching.
    static let palette: [String] = [
        "a", "b", "c", "z", "A", "Q", "0", "7", "9", " ", "  ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}",
        "'s", "'t", "'re", "'ll", "'", "\"", ".", ",", "!", "?", "-", "_", "(", ")", "<", ">", "|", "\\",
        "é", "ü", "ß", "ñ", "\u{0301}", "\u{00A0}", "\u{2009}", "\u{3000}", "\u{FEFF}", "\u{200D}", "\u{0000}", "\u{001F}", "\u{007F}",
        "中", "文", "日本", "한", "ф", "ω", "ا", "हि", "\u{1F600}", "\u{1F469}\u{200D}\u{1F4BB}", "\u{10FFFF}", "\u{E000}",
        "123456", "hello", "ab", " ab", "<s>", "</s>", "<|im_start|>", "<|endoftext|>", "<user>",
    ]

    static func randomText(_ rng: inout SplitMix64) -> String {
        var text = ""
        for _ in 0..<rng.next(below: 40) {
            let piece = palette[rng.next(below: palette.count)]
            // Now and then a long run, which regex-like splitters can handle badly.
            text += rng.next(below: 20) == 0 ? String(repeating: piece, count: 1 + rng.next(below: 300)) : piece
        }
        return text
    }

    /// Byte-level BPE: the 256-byte alphabet, a few merges, one control and one user-defined token.
    static func bpe(pre: String) throws -> ByteLevelBPETokenizer {
        var tokens = (0...255).map { ByteAlphabet.gpt2.string(forByte: UInt8($0)) }
        var types = [TokenType](repeating: .normal, count: tokens.count)
        let extra = ["ab", "Ġa", "Ġab", "he", "ll", "hell", "hello", "ĠĠ", "ĊĊ", "12"]
        tokens += extra + ["<|endoftext|>", "<user>"]
        types += extra.map { _ in .normal } + [.control, .userDefined]
        return try ByteLevelBPETokenizer(vocabulary: TokenizerVocabulary(
            model: "gpt2", preTokenizer: pre, tokens: tokens, tokenTypes: types,
            merges: ["a b", "Ġ a", "Ġa b", "h e", "l l", "he ll", "hell o", "Ġ Ġ", "Ċ Ċ", "1 2"], bosID: 256 + extra.count, addBOS: true))
    }

    static func spm() throws -> SentencePieceTokenizer {
        let types: [TokenType] = [.unknown, .control, .control] + Array(repeating: .byte, count: 256)
            + TinyVocabulary.pieces.map { _ in .normal } + [.control]
        let scores: [Float] = Array(repeating: 0, count: 259) + TinyVocabulary.pieces.indices.map { -Float($0) - 1 } + [0]
        return try SentencePieceTokenizer(vocabulary: TokenizerVocabulary(
            model: "llama", tokens: TinyVocabulary.tokens, tokenTypes: types, scores: scores,
            bosID: TinyVocabulary.bosID, eosID: TinyVocabulary.eosID, unknownID: 0, addBOS: true))
    }

    @Test("random text through every pre-tokenizer and SentencePiece: ids in range, deterministic, lossless")
    func hostileText() throws {
        let byteLevel = try PreTokenizer.supportedNames.map { try Self.bpe(pre: $0) }
        let sentencePiece = try Self.spm()
        var rng = SplitMix64(seed: 0x70_6B_65_6E)
        for iteration in 0..<Self.textIterations {
            let text = Self.randomText(&rng)
            for parseSpecial in [false, true] {
                for tokenizer in byteLevel {
                    let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: parseSpecial)
                    #expect(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) }, "iteration \(iteration)")
                    #expect(ids == tokenizer.encode(text, addSpecial: true, parseSpecial: parseSpecial))
                    #expect(ids.first == tokenizer.bosID)
                    #expect(tokenizer.decode(Array(ids.dropFirst()), renderControlTokens: parseSpecial) == text,
                            "iteration \(iteration), pre \(tokenizer.vocabulary.preTokenizer ?? "-"): \(text.debugDescription)")
                }
                let ids = sentencePiece.encode(text, addSpecial: true, parseSpecial: parseSpecial)
                #expect(ids.allSatisfy { (0..<sentencePiece.vocabularySize).contains($0) }, "iteration \(iteration)")
                #expect(ids.first == TinyVocabulary.bosID)
                // "▁" is how SentencePiece writes a space, so a literal one comes back as a space.
                let expected = text.replacingOccurrences(of: "\u{2581}", with: " ")
                #expect(sentencePiece.decode(Array(ids.dropFirst()), renderControlTokens: parseSpecial) == expected,
                        "iteration \(iteration): \(text.debugDescription)")
            }
        }
    }

    @Test("random vocabularies either build or throw TokenizerError, and what builds encodes inside itself")
    func randomVocabularies() throws {
        var rng = SplitMix64(seed: 0x766F_6361_62)
        var built = 0, refused = 0
        for iteration in 0..<Self.vocabularyIterations {
            let count = rng.next(below: 12)
            let tokens = (0..<count).map { _ in rng.next(below: 6) == 0 ? "" : Self.palette[rng.next(below: Self.palette.count)] }
            let types = rng.next(below: 4) == 0 ? [] : (0..<(count + (rng.next(below: 8) == 0 ? 1 : 0))).map { _ in
                TokenType.allCases[rng.next(below: TokenType.allCases.count)]
            }
            let scores = (0..<(rng.next(below: 3) == 0 ? count + 1 : count)).map { _ in Float(rng.next(below: 100)) - 50 }
            let merges = (0..<rng.next(below: 6)).map { _ in
                [Self.palette[rng.next(below: Self.palette.count)], rng.next(below: 5) == 0 ? "" : " ",
                 Self.palette[rng.next(below: Self.palette.count)]].joined()
            }
            func specialID() -> Int? { rng.next(below: 3) == 0 ? nil : rng.next(below: count + 3) - 1 }
            let vocabulary = TokenizerVocabulary(
                model: rng.next(below: 2) == 0 ? "gpt2" : "llama", preTokenizer: rng.next(below: 6) == 0 ? "bogus" : "gpt2",
                tokens: tokens, tokenTypes: types, scores: scores, merges: merges,
                bosID: specialID(), eosID: specialID(), unknownID: specialID(),
                addBOS: rng.next(below: 2) == 0, addEOS: rng.next(below: 4) == 0, addSpacePrefix: rng.next(below: 2) == 0)
            do {
                let tokenizer = try Tokenizers.make(for: vocabulary)
                built += 1
                for _ in 0..<4 {
                    let ids = tokenizer.encode(Self.randomText(&rng), addSpecial: true, parseSpecial: rng.next(below: 2) == 0)
                    #expect(ids.allSatisfy { (0..<tokens.count).contains($0) }, "iteration \(iteration)")
                    _ = tokenizer.decode(ids + [-1, tokens.count], renderControlTokens: true)
                }
            } catch {
                refused += 1
            }
        }
        #expect(built > 0 && refused > 0, "the fuzz reached both outcomes: \(built) built, \(refused) refused")
    }
}
