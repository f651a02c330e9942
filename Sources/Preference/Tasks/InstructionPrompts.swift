import Randomness

/// A built-in generator of varied instruction prompts (templates × topics × audiences).
///
/// Stands in for the UltraFeedback / UltraChat prompts of the D2PO paper so that the Word
/// Collector and Unique Nouns tasks need no external file: 44 templates × 120 topics × 8
/// audiences give 42,240 distinct instructions, one in ten held out by stable hash.
public enum InstructionPrompts {
    /// `count` distinct instructions of `split`, drawn from `seed`.
    public static func draw(count: Int, split: TaskSplit, seed: UInt64) -> [String] {
        TaskText.drawSplit(count: count, split: split, seed: seed, label: "instructions") { rng in
            make(&rng).text
        }
    }

    /// One random instruction and the topic it is about.
    static func make(_ rng: inout SeededRandom) -> (text: String, topic: String) {
        let topic = topics[rng.nextInt(topics.count)]
        let template = templates[rng.nextInt(templates.count)]
        let audience = audiences[rng.nextInt(audiences.count)]
        var text = template.replacingOccurrences(of: "{t}", with: topic)
        if !audience.isEmpty, let last = text.last, last == "." || last == "?" {
            text = String(text.dropLast()) + " " + audience + String(last)
        }
        return (text, topic)
    }

    /// The topic an instruction of this generator names, if any (longest match wins).
    static func topic(of instruction: String) -> String? {
        topics.filter { instruction.contains($0) }.max(by: { $0.count < $1.count })
    }

    static let templates = [
        "Explain {t}.", "Tell me about {t}.", "What should I know about {t}?",
        "Write a short paragraph about {t}.", "Give me three tips on {t}.",
        "What are the benefits of {t}?", "What are the risks of {t}?",
        "Describe the first steps in {t}.", "Summarize the main ideas behind {t}.",
        "Why do people care about {t}?", "How can I get better at {t}?",
        "Write a short story that involves {t}.", "Create a checklist for {t}.",
        "Give an example that shows why {t} matters.", "What are common mistakes in {t}?",
        "Compare two ways of approaching {t}.", "Write a friendly email about {t}.",
        "Draft a short plan for {t}.", "What questions should I ask about {t}?",
        "How has {t} changed in recent years?", "Write a poem about {t}.",
        "Give me a simple definition of {t}.", "List the tools needed for {t}.",
        "How do I explain {t} to a friend?", "What is the best way to start {t}?",
        "Write a product description related to {t}.", "Suggest a weekly routine for {t}.",
        "What does a beginner get wrong about {t}?", "Outline a lesson on {t}.",
        "Write a short speech about {t}.", "How much time does {t} take?",
        "What are the costs of {t}?", "Write a dialogue between two people about {t}.",
        "Give me a fun fact about {t}.", "How can a family enjoy {t}?",
        "Write a blog post introduction about {t}.", "What safety rules apply to {t}?",
        "Describe a typical day involving {t}.", "What would an expert say about {t}?",
        "Write a memo about {t}.", "Create a quiz question about {t}.",
        "What is the history of {t}?", "How does {t} affect the environment?",
        "Write a review of a book about {t}.",
    ]

    static let audiences = [
        "", "for a beginner", "for a child", "for a busy parent", "for a student",
        "for a small business owner", "in simple words", "for a retired teacher",
    ]

    static let topics = [
        "gardening", "baking bread", "learning a new language", "saving money", "running a marathon",
        "keeping bees", "playing the guitar", "writing a resume", "training a puppy", "home repair",
        "cooking rice", "planning a wedding", "recycling plastic", "solar panels", "electric cars",
        "public speaking", "time management", "remote work", "online privacy", "password security",
        "machine learning", "cloud computing", "web design", "mobile apps", "video games",
        "photography", "painting with watercolors", "knitting", "chess", "yoga", "meditation",
        "healthy sleep", "drinking enough water", "vegetarian cooking", "grocery shopping",
        "job interviews", "starting a business", "customer service", "team meetings",
        "project planning", "personal finance", "investing in stocks", "buying a house",
        "renting an apartment", "moving to a new city", "traveling by train", "camping",
        "hiking in the mountains", "bird watching", "fishing", "swimming lessons", "cycling to work",
        "climate change", "ocean pollution", "forest fires", "water conservation", "composting",
        "the history of the printing press", "the invention of the telephone", "ancient Rome",
        "the solar system", "black holes", "volcanoes", "earthquakes", "weather forecasts",
        "the human heart", "vaccines", "first aid", "dental care", "nutrition labels",
        "social media", "email etiquette", "writing a novel", "reading poetry", "film making",
        "music theory", "learning to dance", "playing soccer", "basketball practice",
        "tennis", "coaching a team", "volunteering", "raising children", "caring for elderly parents",
        "pet adoption", "aquariums", "house plants", "interior design", "cleaning the kitchen",
        "fixing a bicycle", "car maintenance", "road safety", "smart phones", "data backups",
        "spreadsheets", "database design", "writing clean code", "debugging software",
        "open source projects", "computer networks", "cyber attacks", "artificial intelligence",
        "robots in factories", "3D printing", "space travel", "renewable energy", "wind turbines",
        "local elections", "the stock market", "inflation", "small farms", "coffee brewing",
        "tea ceremonies", "wine tasting", "street food", "museum visits", "learning math",
        "science fairs", "homework help", "college applications", "online courses", "friendship",
    ]
}
