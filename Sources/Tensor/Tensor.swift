/// A dense Float32 array with a shape: the unit of exchange between engine, optimiser and checkpoints.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (row-major).
    public var shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Number of values.
    public var count: Int { data.count }
}

/// Uninitialised room for `count` floats starting on a 64-byte boundary (one cache line). AVX-512 loads
/// that straddle two lines ran at half speed or worse (a 32-row decode product: 110 vs 51 GFLOP/s on
/// one core), and the default allocation is only 16-byte aligned. Free with `deallocate()`.
public func allocateAligned(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        .bindMemory(to: Float.self, capacity: max(count, 1))
}
