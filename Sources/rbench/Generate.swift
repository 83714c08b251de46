import ArgumentParser
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt greedily: a human sanity check of the engine.",
        discussion: """
        Examples:
          rbench generate --prompt "The capital of France is"
          rbench generate --model .models/gemma-3-270m-q4_k_m.gguf --prompt "Once upon a time" --count 30
          rbench generate --model .models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf --special \\
            --prompt $'<|im_start|>user\\nWrite hello world in C<|im_end|>\\n<|im_start|>assistant\\n'

        Exit codes: 0 done, 64 usage error, 65 missing or malformed model, 70 internal error.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Prompt text.") var prompt: String
    @Option(help: "Tokens to generate.") var count = 20
    @Flag(name: [.customLong("special"), .customLong("parse-special")],
          help: "Recognise control tokens written in the prompt (e.g. Qwen's <|im_start|>); otherwise they are plain text.")
    var parseSpecial = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more (got \(count)).") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty.") }
    }

    func run() throws {
        try withExitCodes {
            let (_, languageModel, tokenizer) = try model.load()
            let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: parseSpecial)
            let continuation = try languageModel.generateGreedy(ids, count: count, stopAt: tokenizer.eosID)
            print(prompt + tokenizer.decode(continuation))
        }
    }
}
