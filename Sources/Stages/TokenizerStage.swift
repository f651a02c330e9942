import Foundation
import Pipeline
import Preference
import RecipeSpec
import Tokenizer

/// `tokenizer`: trains a byte-level BPE on a task's demonstrations (and optional pretraining text).
struct TokenizerStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "tokenizer", summary: "Train a byte-level BPE tokenizer on a task's text.", codeVersion: 1,
        fields: [
            FieldSchema("task", .string, doc: "Gold task whose demonstrations form the corpus."),
            FieldSchema("vocab_size", .int, default: .int(1024), doc: "Vocabulary size, special tokens included."),
            FieldSchema("documents", .int, default: .int(4000), doc: "Demonstrations drawn from the task for the corpus."),
            FieldSchema("pretraining_bytes", .int, default: .int(0),
                        doc: "Bytes of Debian-packaged pretraining text added to the corpus (0: none)."),
            FieldSchema("template", .choice(["simple", "chatml"]), default: .string("simple"),
                        doc: "Chat template whose special tokens the vocabulary reserves."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the corpus draw."),
        ]), runner: TokenizerStage())

    func run(_ context: NodeContext) throws {
        let task = try TaskRegistry.task(named: context.string("task"))
        let seed = UInt64(try context.int("seed"))
        guard let template = ChatTemplate.builtIn[try context.string("template")] else {
            throw StageError(context.stage.name, "unknown template")
        }
        var corpus = task.demonstrations(count: try context.int("documents"), seed: seed).map {
            template.render($0.prompt.messages.map { (role: $0.role, content: $0.content) }, addGenerationPrompt: true)
                + $0.response + template.endOfTurn
        }
        let pretraining = try context.int("pretraining_bytes")
        if pretraining > 0 { corpus += try Corpus.pretrainingText(maxBytes: pretraining, seed: seed) }
        let specials = ["<|endoftext|>", "<|pad|>"] + template.specialTokens
        let start = Date()
        let tokenizer = BPETokenizer.train(corpus: corpus, vocabSize: try context.int("vocab_size"), specialTokens: specials,
                                           eos: "<|endoftext|>", pad: "<|pad|>")
        let codec = try TokenizerCodec(tokenizer: tokenizer, template: template)
        try TokenizerArtifact.save(codec, to: context.outputDirectory)
        let bytes = corpus.reduce(0) { $0 + $1.utf8.count }
        let tokens = corpus.reduce(0) { $0 + tokenizer.encode($1).count }
        context.reporter.summary(["vocab_size": Double(tokenizer.vocabSize), "corpus_bytes": Double(bytes),
                                  "bytes_per_token": Double(bytes) / Double(max(tokens, 1)),
                                  "seconds": Date().timeIntervalSince(start)])
    }
}
