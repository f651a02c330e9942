// The Tensor target; its code lands here.
