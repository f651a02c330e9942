// The Preference target; its code lands here.
