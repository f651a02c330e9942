// The Stages target; its code lands here.
