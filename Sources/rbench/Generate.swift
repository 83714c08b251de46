import ArgumentParser
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt greedily: a human sanity check of the engine.",
        discussion: """
        Examples:
          rbench generate --prompt "The capital of France is"
          rbench generate --model .models/gemma-3-270m-q4_k_m.gguf --prompt "Once upon a time" --count 30

        Exit codes: 0 done, 64 usage error, 65 missing or malformed model, 70 internal error.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Prompt text.") var prompt: String
    @Option(help: "Tokens to generate.") var count = 20

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more (got \(count)).") }
        guard !prompt.isEmpty else { throw ValidationError("--prompt must not be empty.") }
    }

    func run() throws {
        try withExitCodes {
            let (_, languageModel, tokenizer) = try model.load()
            let ids = tokenizer.encode(prompt, addSpecial: true)
            let continuation = try languageModel.generateGreedy(ids, count: count, stopAt: tokenizer.eosID)
            print(prompt + tokenizer.decode(continuation))
        }
    }
}
