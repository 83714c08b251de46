import Testing
@testable import Tokenization

/// A byte-level BPE over the full 256-symbol alphabet plus `extra` tokens and `merges`.
private func makeBPE(
    pre: String? = "gpt2",
    extra: [String] = [],
    merges: [String] = [],
    special: [(String, TokenType)] = []
) throws -> ByteLevelBPETokenizer {
    var tokens = (0...255).map { ByteAlphabet.gpt2.string(forByte: UInt8($0)) }
    var types = [TokenType](repeating: .normal, count: tokens.count)
    tokens += extra
    types += extra.map { _ in .normal }
    for (text, type) in special {
        tokens.append(text)
        types.append(type)
    }
    return try ByteLevelBPETokenizer(vocabulary: TokenizerVocabulary(
        model: "gpt2", preTokenizer: pre, tokens: tokens, tokenTypes: types, merges: merges))
}

/// The token strings of `text`'s encoding.
private func pieces(_ tokenizer: some Tokenizer, _ text: String, parseSpecial: Bool = false) -> [String] {
    tokenizer.encode(text, addSpecial: false, parseSpecial: parseSpecial).map { tokenizer.tokenString($0)! }
}

/// The pre-tokenizer's pieces of `text` as strings.
private func split(_ preTokenizer: PreTokenizer, _ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    return preTokenizer.split(scalars).map { range in
        var piece = String.UnicodeScalarView()
        piece.append(contentsOf: scalars[range])
        return String(piece)
    }
}

@Suite("Byte-level BPE")
struct ByteLevelBPETests {
    @Test("the byte alphabet maps space, LF and the unprintable bytes as GPT-2 does, and inverts")
    func byteAlphabet() {
        let alphabet = ByteAlphabet.gpt2
        #expect(alphabet.string(forByte: 0x20) == "Ġ")
        #expect(alphabet.string(forByte: 0x0A) == "Ċ")
        #expect(alphabet.string(forByte: 0x09) == "ĉ")
        #expect(alphabet.string(forByte: 0x7F) == "\u{121}")
        #expect(alphabet.string(forByte: 0xAD) == "\u{143}")
        #expect(alphabet.string(forByte: 0x41) == "A")
        #expect(Set(alphabet.scalarOfByte).count == 256)
        for byte in 0...255 { #expect(alphabet.byte(for: alphabet.scalarOfByte[byte]) == UInt8(byte)) }
    }

    @Test("the lowest-ranked pair merges first")
    func lowestRankFirst() throws {
        let bcFirst = try makeBPE(extra: ["ab", "bc"], merges: ["b c", "a b"])
        #expect(pieces(bcFirst, "abc") == ["a", "bc"])
        let abFirst = try makeBPE(extra: ["ab", "bc"], merges: ["a b", "b c"])
        #expect(pieces(abFirst, "abc") == ["ab", "c"])
    }

    @Test("equal ranks merge leftmost first, and merged symbols merge again")
    func leftmostOnTies() throws {
        let tokenizer = try makeBPE(extra: ["aa", "aaaa"], merges: ["a a", "aa aa"])
        #expect(pieces(tokenizer, "aaa") == ["aa", "a"])
        #expect(pieces(tokenizer, "aaaaa") == ["aaaa", "a"])
    }

    @Test("smollm splits every digit alone, so a space before a digit stays alone")
    func smollmDigits() throws {
        let smollm = try makeBPE(pre: "smollm", extra: ["Ġ2", "20", "ĠĠ"], merges: ["Ġ 2", "2 0", "Ġ Ġ"])
        #expect(pieces(smollm, " 2024") == ["Ġ", "2", "0", "2", "4"])
        #expect(pieces(smollm, "  2") == ["ĠĠ", "2"])
        let gpt2 = try makeBPE(pre: "gpt2", extra: ["Ġ2", "20", "ĠĠ"], merges: ["Ġ 2", "2 0", "Ġ Ġ"])
        #expect(pieces(gpt2, " 2024") == ["Ġ2", "0", "2", "4"])
        #expect(pieces(gpt2, "  2") == ["Ġ", "Ġ2"])
        #expect(split(.gpt2, " 2024") == [" 2024"])
        #expect(split(.gpt2, "  2") == [" ", " 2"])
        #expect(split(.digitsThenGPT2, "year 1999!") == ["year", " ", "1", "9", "9", "9", "!"])
        // Arabic-Indic digits are \p{N} too.
        #expect(split(.digitsThenGPT2, "x\u{661}\u{662}") == ["x", "\u{661}", "\u{662}"])
    }

    @Test("a whitespace run gives its last space to the next word, but is taken whole at the end")
    func whitespaceRuns() {
        #expect(split(.gpt2, "a   b") == ["a", "  ", " b"])
        #expect(split(.gpt2, "a   ") == ["a", "   "])
        #expect(split(.gpt2, "a\n\nb") == ["a", "\n", "\n", "b"])
        #expect(split(.gpt2, "x \n") == ["x", " \n"])
        // Under smollm a digit ends the piece, so the spaces before it reach the piece end.
        #expect(split(.digitsThenGPT2, "a   1") == ["a", "   ", "1"])
    }

    @Test("contractions are lowercase with the ASCII apostrophe only")
    func contractions() {
        #expect(split(.gpt2, "don't we're I'll it'd") == ["don", "'t", " we", "'re", " I", "'ll", " it", "'d"])
        #expect(split(.gpt2, "DON'T") == ["DON", "'", "T"])
        #expect(split(.gpt2, "it\u{2019}s") == ["it", "\u{2019}", "s"])
        #expect(split(.gpt2, "'x") == ["'", "x"])
    }

    @Test("letters, numbers and other symbols of any script form their own runs")
    func nonASCII() throws {
        #expect(split(.gpt2, "héllo wörld") == ["héllo", " wörld"])
        #expect(split(.gpt2, "日本語です。") == ["日本語です", "。"])
        #expect(split(.gpt2, "a+=b ?!") == ["a", "+=", "b", " ?!"])
        // A combining mark (Mn) is neither letter nor number: it splits a word, as in llama.cpp.
        #expect(split(.gpt2, "e\u{301}t") == ["e", "\u{301}", "t"])
        let tokenizer = try makeBPE()
        for text in ["héllo wörld", "日本語 🙂 x", "tab\tand\r\nCRLF", "\u{0}\u{7F}\u{AD}"] {
            #expect(tokenizer.decode(tokenizer.encode(text, addSpecial: false)) == text)
        }
        // One byte per symbol without merges: "é" is two tokens that only decode together.
        let ids = tokenizer.encode("é", addSpecial: false)
        #expect(ids.count == 2)
        #expect(tokenizer.decode(ids) == "é")
    }

    @Test("llama.cpp's default pre-tokenizer: punctuation runs, number runs, groups of three ASCII digits")
    func defaultPreTokenizer() throws {
        #expect(try PreTokenizer(name: nil, source: "t") == .llamaDefault)
        #expect(split(.llamaDefault, "12345") == ["123", "45"])
        #expect(split(.llamaDefault, "a, b") == ["a", ",", " b"])
        #expect(split(.llamaDefault, "x 1234") == ["x", " ", "123", "4"])
    }

    @Test("qwen2: case-insensitive contractions, one leading non-letter joins a letter run, digits alone")
    func qwen2Words() throws {
        #expect(try PreTokenizer(name: "qwen2", source: "t") == .qwen2)
        // Names llama.cpp maps to the same regex as gpt2 and qwen2 (StableLM 2 uses qwen2's).
        #expect(try PreTokenizer(name: "stablelm2", source: "t") == .qwen2)
        #expect(try ["mpt", "olmo", "jais"].allSatisfy { try PreTokenizer(name: $0, source: "t") == .gpt2 })
        #expect(split(.qwen2, "Hello world") == ["Hello", " world"])
        #expect(split(.qwen2, "I'M here, don't") == ["I", "'M", " here", ",", " don", "'t"])
        #expect(split(.qwen2, "WE'RE") == ["WE", "'RE"])
        #expect(split(.qwen2, "year 2024!") == ["year", " ", "2", "0", "2", "4", "!"])
        #expect(split(.qwen2, "(hello) \tfoo") == ["(hello", ")", " ", "\tfoo"])
        #expect(split(.qwen2, "e\u{301}t") == ["e", "\u{301}t"])
        #expect(split(.qwen2, "日本語です。") == ["日本語です", "。"])
    }

    @Test("qwen2: punctuation keeps its line breaks, whitespace runs end after their last line break")
    func qwen2Whitespace() {
        #expect(split(.qwen2, "a,\n\nb") == ["a", ",\n\n", "b"])
        #expect(split(.qwen2, "x ?!\n") == ["x", " ?!\n"])
        #expect(split(.qwen2, "x  \n  y") == ["x", "  \n", " ", " y"])
        #expect(split(.qwen2, "a\r\nb") == ["a", "\r\n", "b"])
        #expect(split(.qwen2, "end  ") == ["end", "  "])
        #expect(split(.qwen2, "a   b") == ["a", "  ", " b"])
        #expect(split(.qwen2, "\n\n") == ["\n\n"])
    }

    @Test("user-defined tokens are always cut out, control tokens only with parseSpecial")
    func specialTokens() throws {
        let tokenizer = try makeBPE(special: [("<|im_start|>", .control), ("<tag>", .userDefined), ("<tag>x", .userDefined)])
        let control = tokenizer.vocabulary.tokens.firstIndex(of: "<|im_start|>")!
        #expect(!tokenizer.encode("<|im_start|>hi", addSpecial: false).contains(control))
        #expect(tokenizer.encode("<|im_start|>hi", addSpecial: false, parseSpecial: true).first == control)
        // Longest first: "<tag>x" wins over "<tag>".
        #expect(pieces(tokenizer, "a<tag>x<tag>") == ["a", "<tag>x", "<tag>"])
        #expect(tokenizer.decode(tokenizer.encode("<|im_start|>hi", addSpecial: false, parseSpecial: true)) == "hi")
        #expect(tokenizer.decode([control], renderControlTokens: true) == "<|im_start|>")
    }

    @Test("BOS and EOS follow addBOS/addEOS only when addSpecial")
    func bosEos() throws {
        var tokens = (0...255).map { ByteAlphabet.gpt2.string(forByte: UInt8($0)) }
        tokens.append("<s>")
        var types = [TokenType](repeating: .normal, count: 256)
        types.append(.control)
        let tokenizer = try ByteLevelBPETokenizer(vocabulary: TokenizerVocabulary(
            model: "gpt2", preTokenizer: "gpt2", tokens: tokens, tokenTypes: types,
            bosID: 256, eosID: 256, addBOS: true, addEOS: true))
        // The one-byte token of "a" has the byte's value as its id in this vocabulary.
        #expect(tokenizer.encode("a", addSpecial: true) == [256, 0x61, 256])
        #expect(tokenizer.encode("a", addSpecial: false).count == 1)
        #expect(tokenizer.addsBOS && tokenizer.bosID == 256 && tokenizer.vocabularySize == 257)
    }

    @Test("unknown models and pre-tokenizers are typed errors, never a fallback")
    func errors() throws {
        let vocabulary = TokenizerVocabulary(source: "test.gguf", model: "gpt2", preTokenizer: "llama3", tokens: ["a"])
        #expect(throws: TokenizerError.unknownPreTokenizer(name: "llama3", source: "test.gguf")) {
            try Tokenizers.make(for: vocabulary)
        }
        var wordPiece = vocabulary
        wordPiece.model = "bert"
        #expect(throws: TokenizerError.unknownModel(name: "bert", source: "test.gguf")) {
            try Tokenizers.make(for: wordPiece)
        }
        let message = TokenizerError.unknownPreTokenizer(name: "llama3", source: "test.gguf").description
        #expect(message.contains("test.gguf") && message.contains("llama3") && message.contains("smollm") && message.contains("qwen2"))
        var badTypes = vocabulary
        badTypes.preTokenizer = "gpt2"
        badTypes.tokenTypes = [.normal, .normal]
        #expect(throws: TokenizerError.self) { try Tokenizers.make(for: badTypes) }
        var badMerge = badTypes
        badMerge.tokenTypes = []
        badMerge.merges = ["ab"]
        #expect(throws: TokenizerError.self) { try Tokenizers.make(for: badMerge) }
    }
}
