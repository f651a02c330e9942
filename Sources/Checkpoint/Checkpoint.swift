// The Checkpoint target; its code lands here.
