let posLexiconText = ""
let posTrigramCountsText = ""
