import ArgumentParser
import Foundation

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of each line of a text file, as the model's tokenizer gives them.",
        discussion: """
        One line of ids per input line, empty lines included (LF or CRLF endings). BOS is added \
        when the model's metadata says so, unless --no-bos; special tokens written in the text \
        are parsed only with --special (llama.cpp's tokenizer options).

        Examples:
          rbench tokenize --prompts prompts.txt
          rbench tokenize --prompts chat.txt --special --no-bos
          rbench tokenize --model .models/gemma-3-270m-q4_k_m.gguf --prompts prompts.txt --json
          rbench tokenize --model .models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --prompts chat.txt --special

        Exit codes: 0 done, 64 usage error, 65 missing or malformed model or prompt file, 70 internal error.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Text file, one prompt per line.", valueName: "file")) var prompts: String
    @OptionGroup var tokenization: TokenizationOptions
    @Flag(help: "Print a JSON array of id lists.") var json = false

    func run() throws {
        try withExitCodes {
            let lines = try readPromptLines(prompts)
            let tokenizer = try model.loadTokenizer()
            let ids = lines.map { tokenization.encode($0, tokenizer) }
            if json {
                print(String(decoding: try JSONEncoder().encode(ids), as: UTF8.self))
            } else {
                for line in ids { print(line.map(String.init).joined(separator: " ")) }
            }
        }
    }
}
