/// Owns one contiguous allocation of values and, once gradients are enabled, one of gradients, shared by
/// many `Parameter`s (llm.c style). A model that is only run forward never enables them: for SmolLM2 the
/// gradient arena alone is 540 MB, which reference models, scorers and evaluation policies never touch.
public final class ParameterArena {
    /// All parameter values, concatenated in parameter order.
    public let values: UnsafeMutableBufferPointer<Float>
    /// All gradients, same layout as `values`; nil until `enableGradients()`.
    public private(set) var grads: UnsafeMutableBufferPointer<Float>?

    init(count: Int, gradients: Bool) {
        values = UnsafeMutableBufferPointer(start: allocateAligned(count), count: max(count, 1))
        values.initialize(repeating: 0)
        if gradients { enableGradients() }
    }

    /// Allocates the gradients, zeroed; does nothing when they exist.
    public func enableGradients() {
        guard grads == nil else { return }
        let g = UnsafeMutableBufferPointer(start: allocateAligned(values.count), count: values.count)
        g.initialize(repeating: 0)
        grads = g
    }

    deinit {
        values.deallocate()
        grads?.deallocate()
    }
}

/// A named trainable tensor with reference semantics: value and gradient are views into an arena.
public final class Parameter {
    /// Checkpoint name (Hugging Face naming for model weights).
    public let name: String
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Number of values.
    public let count: Int
    /// Mutable view of the values.
    public let value: UnsafeMutableBufferPointer<Float>
    /// Keeps the backing memory alive as long as any view of it exists.
    public let arena: ParameterArena
    /// Where this parameter starts in the arena.
    private let offset: Int

    init(name: String, shape: [Int], arena: ParameterArena, offset: Int) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.arena = arena
        self.offset = offset
        self.value = UnsafeMutableBufferPointer(rebasing: arena.values[offset..<offset + count])
    }

    /// A standalone zero-valued parameter with its own allocation, gradient included.
    public convenience init(name: String, shape: [Int]) {
        self.init(name: name, shape: shape, arena: ParameterArena(count: shape.reduce(1, *), gradients: true), offset: 0)
    }

    /// Allocates parameters for `specs` (name, shape) in one arena, in order, zero-valued; without
    /// `gradients` the arena holds values only until `ParameterArena.enableGradients()`.
    public static func allocate(_ specs: [(name: String, shape: [Int])], gradients: Bool = true) -> [Parameter] {
        let total = specs.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let arena = ParameterArena(count: total, gradients: gradients)
        var offset = 0
        return specs.map { spec in
            let p = Parameter(name: spec.name, shape: spec.shape, arena: arena, offset: offset)
            offset += p.count
            return p
        }
    }

    /// True when the arena holds gradients.
    public var hasGradient: Bool { arena.grads != nil }

    /// Mutable view of the accumulated gradient; the arena must hold gradients (`hasGradient`).
    public var grad: UnsafeMutableBufferPointer<Float> {
        guard let grads = arena.grads else {
            preconditionFailure("Parameter \(name) has no gradient: its model is frozen (inference only)")
        }
        return UnsafeMutableBufferPointer(rebasing: grads[offset..<offset + count])
    }

    /// A copy of the values as a `Tensor`.
    public func valueTensor() -> Tensor { Tensor(shape: shape, data: Array(value)) }

    /// A copy of the gradient as a `Tensor`.
    public func gradTensor() -> Tensor { Tensor(shape: shape, data: Array(grad)) }

    /// Overwrites the values from `data`, which must hold exactly `count` values.
    public func setValue(_ data: [Float]) {
        precondition(data.count == count, "Parameter \(name): \(data.count) values for shape \(shape)")
        _ = value.update(fromContentsOf: data)
    }

    /// Sets the gradient to zero.
    public func zeroGrad() { grad.update(repeating: 0) }
}
