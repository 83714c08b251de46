import ArgumentParser
import Engine
import Foundation
import GGUF
import Harness
import Recording
import Tokenization

/// Where results and baselines live.
struct StoreOptions: ParsableArguments {
    @Option(help: "The results database (run files go to runs/ next to it).")
    var db: String = "results/rbench.sqlite"

    @Option(help: "The baselines folder.")
    var baselines: String = "Baselines"

    var runsDirectory: URL { URL(fileURLWithPath: db).deletingLastPathComponent().appendingPathComponent("runs") }
    var baselinesURL: URL { URL(fileURLWithPath: baselines) }

    /// The database for a command that records (created and migrated as needed).
    func openStore() throws -> ResultStore {
        do { return try ResultStore(path: db, access: .readWrite) } catch { throw fail(error) }
    }

    /// The database for a command that only reads: never created, never written (a read-only file is fine).
    func openForReading() throws -> ResultStore {
        do { return try ResultStore(path: db, access: .readOnly) } catch { throw fail(error) }
    }

    /// Stores verdicts of a reading command when the database may be written; a read-only
    /// database only loses this audit copy (the verdicts can always be recomputed), so it is a note.
    func saveVerdictsIfWritable(_ verdicts: [MetricVerdict], runID: String) {
        guard FileManager.default.isWritableFile(atPath: db) else {
            printNote("\(db) is read-only: verdicts shown, not stored")
            return
        }
        do { try ResultStore(path: db, access: .readWrite).saveVerdicts(verdicts, runID: runID) } catch {
            printNote("verdicts shown, not stored: \(error)")
        }
    }
}

/// Machine-readable outputs every verdict-producing command can write.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the versioned verdict JSON document instead of the table.")
    var json = false

    @Flag(help: "List every metric in the table, not only those that need attention.")
    var full = false

    @Option(help: "Also write JUnit XML (one testcase per check × metric) to this file.")
    var junit: String?

    @Option(help: "Also write a Markdown PR summary to this file.")
    var markdown: String?

    func emit(run: RunRecord, verdicts: [MetricVerdict], exitCode: Int32, regime: ComparisonRegime? = nil) throws {
        if json {
            StandardStreams.writeOutput(VerdictReport.json(run: run, verdicts: verdicts, exitCode: exitCode, regime: regime))
            print()
            // stdout is for the document; people still need to see that nothing was compared.
            if let regime, regime.kind == .none { printNote(regime.summary) }
        } else {
            print(VerdictReport.table(verdicts, full: full, regime: regime), terminator: "")
        }
        do {
            if let junit { try VerdictReport.junit(run: run, verdicts: verdicts).write(toFile: junit, atomically: true, encoding: .utf8) }
            if let markdown { try VerdictReport.markdown(run: run, verdicts: verdicts, exitCode: exitCode, regime: regime).write(toFile: markdown, atomically: true, encoding: .utf8) }
        } catch {
            printError("cannot write report: \(error)")
            throw ExitCode(ExitCodes.internalError)
        }
    }
}

func printError(_ message: String) {
    StandardStreams.writeError("error: \(message)\n")
}

/// Something to know that is not an error (the command still succeeds): stderr, prefixed `note:`.
func printNote(_ message: String) {
    StandardStreams.writeError("note: \(message)\n")
}

/// Reports an error on stderr and returns the exit code it maps to, ready to throw: the one
/// mapping from error types to the codes of ``ExitCodes``, for every command.
func fail(_ error: any Error) -> ExitCode {
    switch error {
    case let exit as ExitCode: return exit
    case let usage as ValidationError:
        printError(usage.message)
        return ExitCode(ExitCodes.usage)
    case let model as GGUFError:
        printError(model.description)
        return ExitCode(ExitCodes.badInput)
    case let engine as EngineError:
        printError(engine.description)
        return ExitCode(ExitCodes.badInput)
    case let tokenizer as TokenizerError:
        printError(tokenizer.description)
        return ExitCode(ExitCodes.badInput)
    case let recording as RecordingError:
        printError(recording.description)
        return ExitCode(recording.exitCode)
    case let harness as HarnessError:
        printError(harness.description)
        return ExitCode(harness.exitCode)
    case let suite as SuiteError:
        printError(suite.description)
        return ExitCode(ExitCodes.badInput)
    default:
        printError("\(error)")
        return ExitCode(ExitCodes.internalError)
    }
}

/// Runs `body`, turning any error into its documented exit code (a `ValidationError` is left
/// to ArgumentParser, which prints it with the usage and exits 64).
func withExitCodes(_ body: () throws -> Void) throws {
    do { try body() } catch let usage as ValidationError { throw usage } catch { throw fail(error) }
}
