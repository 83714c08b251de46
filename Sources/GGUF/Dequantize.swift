import Foundation

/// Converts packed ggml blocks to Float32; one extension file per type family.
///
/// Every converter takes a pointer to whole blocks, a block count and an output pointer
/// with room for `blocks × blockElements` floats. The caller has checked the bounds.
enum Dequantizer {
    typealias Converter = @Sendable (_ source: UnsafeRawPointer, _ blocks: Int, _ output: UnsafeMutablePointer<Float>) -> Void

    /// Work below this many elements is not worth a thread hop.
    static let parallelThreshold = 1 << 18

    static func converter(for type: GGMLType) -> Converter? {
        switch type {
        case .f32: convertF32
        case .f16: convertF16
        case .bf16: convertBF16
        case .q4_0: convertQ4_0
        case .q4_1: convertQ4_1
        case .q5_0: convertQ5_0
        case .q5_1: convertQ5_1
        case .q8_0: convertQ8_0
        case .q4_K: convertQ4_K
        case .q5_K: convertQ5_K
        case .q6_K: convertQ6_K
        default: nil
        }
    }

    /// Converts `blocks` blocks from the start of `source`, split across cores when large.
    static func convert(_ source: UnsafeRawBufferPointer, type: GGMLType, blocks: Int,
                        into output: UnsafeMutablePointer<Float>, parallel: Bool) {
        guard blocks > 0, let base = source.baseAddress else { return }
        precondition(source.count >= blocks * type.blockBytes, "dequantize: source shorter than its blocks")
        guard let converter = converter(for: type) else {
            preconditionFailure("dequantize: \(type) has no converter")
        }
        let elements = blocks * type.blockElements
        let workers = min(System.coreCount, elements / parallelThreshold)
        guard parallel, workers > 1 else {
            converter(base, blocks, output)
            return
        }
        let blocksPerWorker = (blocks + workers - 1) / workers
        // Workers write disjoint output ranges and only read the source.
        nonisolated(unsafe) let sharedSource = base
        nonisolated(unsafe) let sharedOutput = output
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let first = worker * blocksPerWorker
            let count = min(blocksPerWorker, blocks - first)
            guard count > 0 else { return }
            converter(sharedSource + first * type.blockBytes, count, sharedOutput + first * type.blockElements)
        }
    }

    /// Reads an IEEE binary16 at `offset` as a Float.
    @inline(__always)
    static func half(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }
}

enum System {
    static let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
