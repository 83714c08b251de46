/// Where one tensor lies in a GGUF file and how it is shaped.
///
/// `dimensions[0]` (`ne0`) varies fastest: a 2-D weight `[ne0, ne1]` is `ne1` rows of
/// `ne0` elements, so a linear layer has `ne0 = in_features` and `ne1 = out_features`.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// The extents `ne[0...]`, fastest-varying first.
    public let dimensions: [Int]
    /// The element type.
    public let type: GGMLType
    /// The absolute byte offset of the data in the file.
    public let offset: Int
    /// The size of the data in bytes.
    public let byteCount: Int

    /// The number of elements: the product of the dimensions.
    public var elementCount: Int { dimensions.reduce(1, *) }
    /// The length of one row, `ne0` (1 for a tensor without dimensions).
    public var rowLength: Int { dimensions.first ?? 1 }
    /// The number of rows: the product of the dimensions after the first.
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }
    /// The size of one row in bytes.
    public var rowByteCount: Int { rowLength / type.blockElements * type.blockBytes }
}
