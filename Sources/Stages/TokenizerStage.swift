import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Tokenizer

/// `tokenizer`: trains a byte-level BPE on a task's demonstrations (and optional pretraining text).
struct TokenizerStage: StageRunner {
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
