/// GPT-2's reversible map between the 256 byte values and 256 printable code points.
///
/// Printable bytes (0x21–0x7E, 0xA1–0xAC, 0xAE–0xFF) map to the code point of the same
/// value; the other 68 bytes, in increasing order, map to U+0100, U+0101, … so that
/// space becomes "Ġ" (U+0120) and LF "Ċ" (U+010A).
struct ByteAlphabet: Sendable {
    /// `scalarOfByte[b]` is the code point standing for byte `b`.
    let scalarOfByte: [Unicode.Scalar]
    /// Inverse of `scalarOfByte`, keyed by code point value.
    private let byteOfScalar: [UInt32: UInt8]

    static let gpt2 = ByteAlphabet()

    private init() {
        var scalars = [Unicode.Scalar](repeating: "\0", count: 256)
        var nextUnprintable: UInt32 = 0x100
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                scalars[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                scalars[byte] = Unicode.Scalar(nextUnprintable)!
                nextUnprintable += 1
            }
        }
        scalarOfByte = scalars
        var inverse: [UInt32: UInt8] = [:]
        for (byte, scalar) in scalars.enumerated() { inverse[scalar.value] = UInt8(byte) }
        byteOfScalar = inverse
    }

    /// The byte a code point stands for, or `nil` if it is outside the alphabet.
    func byte(for scalar: Unicode.Scalar) -> UInt8? {
        byteOfScalar[scalar.value]
    }

    /// The alphabet string of one byte, as written in the vocabulary.
    func string(forByte byte: UInt8) -> String {
        String(Character(scalarOfByte[Int(byte)]))
    }
}
