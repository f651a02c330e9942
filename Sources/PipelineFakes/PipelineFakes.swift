// The PipelineFakes target; its code lands here.
