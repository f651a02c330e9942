// The Optim target; its code lands here.
