import Testing
@testable import Tokenization

/// A SentencePiece vocabulary: control tokens, byte tokens `<0x00>`…`<0xFF>`, then `pieces` with their scores.
private func makeSPM(
    _ pieces: [(String, Float)],
    userDefined: [String] = [],
    addBOS: Bool = false,
    addSpacePrefix: Bool = false
) throws -> SentencePieceTokenizer {
    var tokens = ["<pad>", "<eos>", "<bos>", "<unk>"]
    var types: [TokenType] = [.control, .control, .control, .unknown]
    var scores: [Float] = [0, 0, 0, 0]
    for byte in 0...255 {
        tokens.append("<0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true) + ">")
        types.append(.byte)
        scores.append(0)
    }
    for (piece, score) in pieces {
        tokens.append(piece)
        types.append(.normal)
        scores.append(score)
    }
    for text in userDefined {
        tokens.append(text)
        types.append(.userDefined)
        scores.append(0)
    }
    return try SentencePieceTokenizer(vocabulary: TokenizerVocabulary(
        model: "llama", preTokenizer: "default", tokens: tokens, tokenTypes: types, scores: scores,
        bosID: 2, eosID: 1, unknownID: 3, paddingID: 0, addBOS: addBOS, addSpacePrefix: addSpacePrefix))
}

private func pieces(_ tokenizer: SentencePieceTokenizer, _ text: String) -> [String] {
    tokenizer.encode(text, addSpecial: false).map { tokenizer.tokenString($0)! }
}

@Suite("SentencePiece-style tokenizer")
struct SentencePieceTests {
    static let letters: [(String, Float)] = ["a", "b", "c", "▁"].map { ($0, -10) }

    @Test("spaces become ▁ and the highest-scoring pair merges first")
    func scoreOrder() throws {
        let tokenizer = try makeSPM(Self.letters + [("ab", -2), ("bc", -1), ("▁a", -3)])
        #expect(pieces(tokenizer, "abc") == ["a", "bc"])
        #expect(pieces(tokenizer, "c a") == ["c", "▁a"])
        let abWins = try makeSPM(Self.letters + [("ab", -1), ("bc", -2)])
        #expect(pieces(abWins, "abc") == ["ab", "c"])
    }

    @Test("equal scores merge leftmost first")
    func leftmostOnTies() throws {
        let tokenizer = try makeSPM(Self.letters + [("aa", -1)])
        #expect(pieces(tokenizer, "aaa") == ["aa", "a"])
        let chained = try makeSPM(Self.letters + [("ab", -1), ("abab", -0.5)])
        #expect(pieces(chained, "ababa") == ["abab", "a"])
    }

    @Test("characters without a token fall back to their UTF-8 bytes, and decode back")
    func byteFallback() throws {
        let tokenizer = try makeSPM(Self.letters)
        #expect(pieces(tokenizer, "aé") == ["a", "<0xC3>", "<0xA9>"])
        #expect(pieces(tokenizer, "🙂") == ["<0xF0>", "<0x9F>", "<0x99>", "<0x82>"])
        #expect(tokenizer.decode(tokenizer.encode("a é🙂 b", addSpecial: false)) == "a é🙂 b")
    }

    @Test("user-defined tokens are matched before merging, longest first")
    func userDefinedTokens() throws {
        let tokenizer = try makeSPM(Self.letters + [("▁▁", -1)], userDefined: ["\n", "\n\n", "  ", "<table>"])
        #expect(pieces(tokenizer, "a\n\nb") == ["a", "\n\n", "b"])
        #expect(pieces(tokenizer, "a\n\n\nb") == ["a", "\n\n", "\n", "b"])
        // Two spaces are one user-defined token, never the "▁▁" piece.
        #expect(pieces(tokenizer, "a  b") == ["a", "  ", "b"])
        #expect(pieces(tokenizer, "<table>a") == ["<table>", "a"])
        #expect(tokenizer.decode(tokenizer.encode("a  b\n\n<table>", addSpecial: false)) == "a  b\n\n<table>")
    }

    @Test("control tokens in text are plain text unless parseSpecial; BOS comes from addBOS")
    func controlTokens() throws {
        let tokenizer = try makeSPM(Self.letters + [("<", -5), ("s", -5), (">", -5)], addBOS: true)
        #expect(tokenizer.encode("a", addSpecial: true) == [2, tokenizer.encode("a", addSpecial: false)[0]])
        #expect(!tokenizer.encode("<bos>a", addSpecial: false).contains(2))
        #expect(tokenizer.encode("<bos>a", addSpecial: false, parseSpecial: true).first == 2)
        #expect(tokenizer.decode([2, 4 + 0x61]) == "a")
        #expect(tokenizer.decode([2], renderControlTokens: true) == "<bos>")
    }

    @Test("addSpacePrefix prepends ▁ at the start and after special tokens, and decode strips it")
    func spacePrefix() throws {
        let tokenizer = try makeSPM(Self.letters + [("▁a", -1)], userDefined: ["<x>"], addSpacePrefix: true)
        #expect(pieces(tokenizer, "a<x>a") == ["▁a", "<x>", "▁a"])
        #expect(tokenizer.decode(tokenizer.encode("a", addSpecial: false)) == "a")
    }

    @Test("a SentencePiece vocabulary without scores is rejected")
    func missingScores() {
        let vocabulary = TokenizerVocabulary(source: "x.gguf", model: "llama", tokens: ["a", "b"])
        #expect(throws: TokenizerError.self) { try Tokenizers.make(for: vocabulary) }
    }
}
