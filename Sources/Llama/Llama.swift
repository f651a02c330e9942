// The Llama target; its code lands here.
