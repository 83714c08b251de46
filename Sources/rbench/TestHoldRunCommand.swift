import ArgumentParser
import Foundation
import Harness
import Recording

/// Test-only: starts a run in the database and sleeps, so tests can kill it mid-run.
struct TestHoldRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_test-hold-run", abstract: "Test helper.", shouldDisplay: false)

    @Option var db: String
    @Option var runID: String
    @Option var seconds: Double = 30

    func run() throws {
        try withExitCodes {
            let store = try ResultStore(path: db)
            let environment = EnvironmentInfo.current(threads: 1, blasConfig: "test", blasCoreType: "test", batchSize: 1)
            try store.beginRun(RunRecord(id: runID, suite: "hold", suiteSHA256: "", modelSHA256: "", corporaSHA256: [:],
                                         masterSeed: 0, argv: CommandLine.arguments, revision: .outsideRepository,
                                         environment: environment))
            try store.appendResult(ResultRecord(claimID: "HOLD", subject: "model", verdict: .supported, seed: 0, durationNS: 0,
                                                metrics: [MetricRecord(name: "x", value: 1)]), runID: runID)
            StandardStreams.writeOutput(Data("started \(runID)\n".utf8))
            Thread.sleep(forTimeInterval: seconds)
            try store.finishRun(id: runID, status: .complete)
        }
    }
}
