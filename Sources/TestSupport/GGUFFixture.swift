import Foundation
import GGUF

/// Tiny GGUF files written to fresh temporary directories, for hermetic tests.
///
/// ```swift
/// var writer = GGUFWriter()
/// writer.setValue(.string("llama"), forKey: "general.architecture")
/// let file = try GGUFFile(contentsOf: GGUFFixture.write(writer, named: "tiny.gguf"))
/// ```
public enum GGUFFixture {
    /// Writes the file `writer` describes as `name` in a new temporary directory.
    public static func write(_ writer: GGUFWriter, named name: String = "fixture.gguf") throws -> URL {
        try write(bytes: writer.encoded(), named: name)
    }

    /// Writes `bytes` (well-formed or not) as `name` in a new temporary directory.
    public static func write(bytes: [UInt8], named name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ResidualBench-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}
