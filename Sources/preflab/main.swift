print("preflab: under construction")
