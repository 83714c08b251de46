import ArgumentParser
import Foundation

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of each line of a text file, as the model's tokenizer gives them.",
        discussion: """
        One line of ids per input line (BOS is added when the model's metadata says so). \
        Control tokens written in the text, such as Qwen's <|im_start|>, are plain text unless \
        --parse-special is given; user-defined tokens are always recognised, as in llama.cpp.

        Examples:
          rbench tokenize --prompts prompts.txt
          rbench tokenize --model .models/gemma-3-270m-q4_k_m.gguf --prompts prompts.txt --json
          rbench tokenize --model .models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --prompts chat.txt --parse-special
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: ArgumentHelp("Text file, one prompt per line.", valueName: "file")) var prompts: String
    @Flag(help: "Print a JSON array of id lists.") var json = false
    @Flag(help: "Recognise control tokens written in the text (e.g. <|im_start|>).") var parseSpecial = false

    func run() throws {
        let tokenizer = try model.loadTokenizer()
        let ids = try readPromptLines(prompts).map { tokenizer.encode($0, addSpecial: true, parseSpecial: parseSpecial) }
        if json {
            print(String(decoding: try JSONEncoder().encode(ids), as: UTF8.self))
        } else {
            for line in ids { print(line.map(String.init).joined(separator: " ")) }
        }
    }
}
