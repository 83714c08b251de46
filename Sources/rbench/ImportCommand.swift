import ArgumentParser
import Foundation
import Recording

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Rebuild or extend the database from run files (runs/<id>.json).",
        discussion: """
        Runs already in the database are skipped, so importing twice is harmless.

        Examples:
          rbench import                                   # results/runs/ into results/rbench.sqlite
          rbench import --db rebuilt.sqlite results/runs other/runs/3f2a.json
        """)

    @Argument(help: "Run files or folders of them (default: runs/ next to the database).")
    var paths: [String] = []

    @OptionGroup var store: StoreOptions

    func run() throws {
        try withExitCodes {
            let results = try store.openStore()
            var files: [URL] = []
            for path in paths.isEmpty ? [store.runsDirectory.path] : paths {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw RecordingError.missingFile(path: path, hint: "pass run files or a runs/ folder")
                }
                if isDirectory.boolValue {
                    let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".json") }.sorted()
                    files += names.map { URL(fileURLWithPath: path).appendingPathComponent($0) }
                } else {
                    files.append(URL(fileURLWithPath: path))
                }
            }
            var imported = 0
            for file in files where try results.importRun(try RunFile.read(file)) { imported += 1 }
            print("imported \(imported) of \(files.count) run file(s) into \(store.db)")
        }
    }
}
