import Foundation

/// The machine and build a run executed on.
///
/// `determinismClass` hashes only what can change computed numbers (ISA, threads, build, BLAS,
/// batch size, compiler); runs in the same class must agree bit for bit.
public struct EnvironmentInfo: Codable, Sendable, Equatable {
    public var hostname: String
    public var osName: String
    public var kernel: String
    public var cpuModel: String
    public var cpuArch: String
    /// SIMD features that select kernels, sorted (e.g. `avx2,fma`).
    public var isaFeatures: [String]
    public var coresOnline: Int
    public var threads: Int
    public var memoryBytes: UInt64
    public var swiftVersion: String
    public var buildConfig: String
    /// `openblas_get_config()` or equivalent, provided by the engine.
    public var blasConfig: String
    /// The BLAS kernel family actually dispatched (e.g. `Haswell`).
    public var blasCoreType: String
    /// Why ``blasCoreType`` is not OpenBLAS's own choice, when rbench overrode it (OpenBLAS fell back to its
    /// generic kernels on a CPU it does not know); nil when OpenBLAS chose, as in every run before it was recorded.
    public var blasCoreOverride: String?
    public var batchSize: Int
    /// Where the model's block matrices lived (`dense` or `quantized`), with the policy that chose it.
    /// Recorded, not part of the determinism class: both residencies compute the same bits
    /// (the engine's reference tests compare them bit for bit). `nil` in runs made before it was recorded.
    public var weightResidency: String?
    /// The engine that ran the models when it is not this build's own (nil: the native CPU engine,
    /// as in every run made before engines were recorded). Part of the determinism class when set.
    public var engine: EngineRecord?

    public init(hostname: String, osName: String, kernel: String, cpuModel: String, cpuArch: String,
                isaFeatures: [String], coresOnline: Int, threads: Int, memoryBytes: UInt64, swiftVersion: String,
                buildConfig: String, blasConfig: String, blasCoreType: String, batchSize: Int,
                weightResidency: String? = nil, engine: EngineRecord? = nil, blasCoreOverride: String? = nil) {
        self.hostname = hostname
        self.osName = osName
        self.kernel = kernel
        self.cpuModel = cpuModel
        self.cpuArch = cpuArch
        self.isaFeatures = isaFeatures.sorted()
        self.coresOnline = coresOnline
        self.threads = threads
        self.memoryBytes = memoryBytes
        self.swiftVersion = swiftVersion
        self.buildConfig = buildConfig
        self.blasConfig = blasConfig
        self.blasCoreType = blasCoreType
        self.batchSize = batchSize
        self.weightResidency = weightResidency
        self.engine = engine
        self.blasCoreOverride = blasCoreOverride
    }

    /// Describes this machine; the caller supplies what only the engine knows.
    public static func current(threads: Int, blasConfig: String, blasCoreType: String, batchSize: Int,
                               buildConfig: String = EnvironmentInfo.compiledBuildConfig,
                               weightResidency: String? = nil, engine: EngineRecord? = nil,
                               blasCoreOverride: String? = nil) -> EnvironmentInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let (model, flags) = parseCPUInfo(cpuinfo)
        var uts = utsname()
        uname(&uts)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let info = ProcessInfo.processInfo
        return EnvironmentInfo(
            hostname: info.hostName, osName: field(uts.sysname), kernel: field(uts.release),
            cpuModel: model, cpuArch: field(uts.machine), isaFeatures: flags,
            coresOnline: info.activeProcessorCount, threads: threads, memoryBytes: info.physicalMemory,
            swiftVersion: compilerVersion, buildConfig: buildConfig, blasConfig: blasConfig,
            blasCoreType: blasCoreType, batchSize: batchSize, weightResidency: weightResidency, engine: engine,
            blasCoreOverride: blasCoreOverride)
    }

    /// The ISA flags that pick different numeric kernels; others (e.g. `pni`) only add noise.
    static let numericFeatures: Set<String> = [
        "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq",
        "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8",
        "asimd", "fphp", "asimdhp", "asimddp", "sve", "sve2", "i8mm", "bf16",
    ]

    /// The CPU model name and the numeric ISA features listed in a `/proc/cpuinfo` text.
    static func parseCPUInfo(_ text: String) -> (model: String, features: [String]) {
        var model = "unknown"
        var features: Set<String> = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if model == "unknown", key == "model name" || key == "Model" { model = value }
            if key == "flags" || key == "Features" {
                features.formUnion(value.split(separator: " ").map(String.init).filter(numericFeatures.contains))
            }
        }
        return (model, features.sorted())
    }

    /// The build configuration this module was compiled in.
    public static var compiledBuildConfig: String {
        #if DEBUG
        "debug"
        #else
        "release"
        #endif
    }

    static var compilerVersion: String {
        #if compiler(>=6.4)
        "6.4+"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.1"
        #endif
    }

    /// The fields that can change numerics, in canonical form.
    public var determinismFields: [String: String] {
        var fields = [
            "cpu_arch": cpuArch, "isa_features": isaFeatures.joined(separator: ","), "threads": String(threads),
            "swift_version": swiftVersion, "build_config": buildConfig, "blas_config": blasConfig,
            "blas_core_type": blasCoreType, "batch_size": String(batchSize),
        ]
        // Only another engine adds a field, so the native engine's classes (and baselines) keep their names.
        if let engine { fields["engine"] = engine.determinismKey }
        return fields
    }

    /// 16 hex digits naming the numeric-equivalence class; baseline files are keyed by it.
    public var determinismClass: String { String(SHA256.hex(CanonicalJSON.object(determinismFields)).prefix(16)) }

    /// SHA-256 of every field: identifies the exact machine and build.
    public var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data()
        return SHA256.hex(Array(data))
    }
}

/// The engine a run used when it is not the native one: name, version, device and dtype, as the
/// engine reports them.
public struct EngineRecord: Codable, Sendable, Equatable {
    /// e.g. `transformers`.
    public var name: String
    /// The engine's own versions, e.g. `transformers 5.24.0, torch 2.13.0+cpu`.
    public var version: String
    /// e.g. `cpu`, `cuda:0`.
    public var device: String
    /// e.g. `float32`.
    public var dtype: String
    /// The worker protocol version.
    public var protocolVersion: Int

    public init(name: String, version: String, device: String, dtype: String, protocolVersion: Int) {
        self.name = name
        self.version = version
        self.device = device
        self.dtype = dtype
        self.protocolVersion = protocolVersion
    }

    /// `transformers 5.24.0, torch 2.13.0+cpu on cpu, float32`.
    public var summary: String { "\(name) (\(version)) on \(device), \(dtype)" }

    /// What distinguishes one engine build and placement from another (name, version, device, dtype).
    public var determinismKey: String { "\(name)|\(version)|\(device)|\(dtype)" }
}

/// Minimal canonical JSON for hashing string maps (sorted keys, no whitespace).
enum CanonicalJSON {
    static func object(_ fields: [String: String]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { "\(string($0.key)):\(string($0.value))" }.joined(separator: ",") + "}"
    }

    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
