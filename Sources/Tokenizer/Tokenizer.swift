// The Tokenizer target; its code lands here.
