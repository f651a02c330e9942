/// Conversions of 16-bit floats by bit manipulation (Swift's `Float16` is missing on Intel macOS).
public enum HalfFloat {
    /// IEEE binary16 to Float, exactly (subnormals, infinities and NaN included).
    @inline(__always)
    public static func f16ToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24  // subnormal (or zero)
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// bfloat16 to Float: the upper half of a Float's bits.
    @inline(__always)
    public static func bf16ToFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// Float to IEEE binary16, rounding to nearest even (for writing test fixtures and F16 files).
    public static func floatToF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        if f.isNaN { return sign | 0x7E00 }
        let a = abs(f)
        if a >= 65520 { return sign | 0x7C00 }  // rounds to infinity
        if a < 0x1p-14 {  // subnormal half: a multiple of 2^-24
            return sign | UInt16((a * 0x1p24).rounded(.toNearestOrEven))
        }
        let e = Int((a.bitPattern >> 23) & 0xFF) - 127
        let scaled = (a * Float(sign: .plus, exponent: 10 - e, significand: 1)).rounded(.toNearestOrEven)  // in [1024, 2048]
        var exponent = UInt16(e + 15)
        var mantissa = UInt16(scaled) - 1024
        if scaled >= 2048 { exponent += 1; mantissa = 0 }
        return sign | (exponent << 10) | mantissa
    }
}
