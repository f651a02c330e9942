// swift-tools-version:6.0
// PrefLab: learning from preference feedback, declarative recipes over an embedded CPU engine.
import PackageDescription

// Strict settings, set once for every target.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "PrefLab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "preflab", targets: ["preflab"]),
        .library(name: "RecipeSpec", targets: ["RecipeSpec"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "StageSpecs", targets: ["StageSpecs"]),
        .library(name: "Llama", targets: ["Llama"]),
        .library(name: "Preference", targets: ["Preference"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // Engine: COpenBLAS, CKernels <- Tensor <- Llama, Optim, Checkpoint; Tokenizer and Randomness stand alone.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CSnappy", path: "Sources/CSnappy"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        // Parquet and Arrow IPC files to JSON-like rows (Debian's zlib, snappy and zstd; no Python).
        .target(name: "Columnar", dependencies: ["CZlib", "CSnappy", "CZstd"], swiftSettings: strict),
        // Decode kernels compiled for AVX-512, AVX2 and baseline, chosen at run time (include/ckernels.h).
        .target(name: "CKernels", path: "Sources/CKernels", exclude: ["variant.inc"]),
        // The seeded generator, alone so that the compute-free layers and the science can draw without the engine.
        .target(name: "Randomness", swiftSettings: strict),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: strict),
        .target(name: "Llama", dependencies: ["Tensor", "Randomness"], swiftSettings: strict),
        .target(name: "Optim", dependencies: ["Tensor"], swiftSettings: strict),
        .target(name: "Checkpoint", dependencies: ["Tensor"], swiftSettings: strict),
        .target(name: "Tokenizer", swiftSettings: strict),
        // Recipes: never import compute code.
        .target(name: "RecipeSpec",
                dependencies: [.product(name: "Yams", package: "Yams")],
                swiftSettings: strict),
        .target(name: "Pipeline", dependencies: ["RecipeSpec"], swiftSettings: strict),
        .target(name: "PipelineFakes", dependencies: ["Pipeline", "RecipeSpec"], swiftSettings: strict),
        // The trainers' settings, each field declared once (compute-free: the catalogue and Preference share them).
        .target(name: "Hyperparameters", dependencies: ["RecipeSpec"], swiftSettings: strict),
        // The dataset catalogue's entries and their files (compute-free: fingerprints are taken without loading).
        .target(name: "DataSpecs", dependencies: ["RecipeSpec"], swiftSettings: strict),
        // The stage catalogue: every kind's schema, outputs, engines, fingerprint and layout; no engine linked.
        .target(name: "StageSpecs", dependencies: ["RecipeSpec", "Pipeline", "Hyperparameters", "DataSpecs"], swiftSettings: strict),
        // Science: data, tasks, annotators, algorithms.
        .target(name: "Preference",
                dependencies: ["Randomness", "Tensor", "Llama", "Optim", "Checkpoint", "Tokenizer", "CZlib", "Columnar",
                               "Hyperparameters", "DataSpecs"],
                // IFEval's tables (NLTK's Punkt English parameters, langdetect's profiles) and the
                // Unique Nouns tagger's lexicon and trigram counts.
                resources: [.copy("Evaluation/Benchmarks/IFEvalData"), .copy("Tasks/POSData")],
                swiftSettings: strict),
        // Delegated engines (TRL, OpenRLHF): job files, generated scripts, launch; no compute code. The catalogue's
        // engine checks are their refusal list (one declaration for validate and run).
        .target(name: "Engines", dependencies: ["Pipeline", "RecipeSpec", "StageSpecs", "Hyperparameters"], resources: [.copy("Python")],
                swiftSettings: strict),
        // The embedded engine's runners: stage kinds bound to Preference, and the command line.
        .target(name: "Stages", dependencies: ["StageSpecs", "Engines", "Pipeline", "RecipeSpec", "Preference", "Llama", "Tokenizer", "Checkpoint", "Tensor", "Randomness"],
                swiftSettings: strict),
        .executableTarget(name: "preflab",
                          dependencies: ["Stages", "StageSpecs", "Engines", "Pipeline", "RecipeSpec", "Preference", "Llama", "Tensor", "Checkpoint",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: strict),
        // Engine throughput runner (benchmarks/README.md); not part of the preflab product.
        .executableTarget(name: "EngineBench", dependencies: ["Llama", "Tensor"], path: "benchmarks/EngineBench",
                          swiftSettings: strict),

        // What several test targets share (a child-process runner, the reference Python lookup); no XCTest.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "Randomness"], swiftSettings: strict),
        .testTarget(name: "LlamaTests", dependencies: ["Llama", "Tensor", "Randomness"], resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "Tensor"], swiftSettings: strict),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "Tensor"], swiftSettings: strict),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], swiftSettings: strict),
        .testTarget(name: "PretrainedTests", dependencies: ["Llama", "Checkpoint", "Tokenizer", "Tensor", "Randomness", "Preference"], resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(name: "PreferenceTests", dependencies: ["Preference", "Columnar", "Hyperparameters", "RecipeSpec", "Llama", "Tokenizer", "Randomness"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "RecipeSpecTests", dependencies: ["RecipeSpec"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "PipelineFakes", "RecipeSpec", "TestSupport"], exclude: ["Golden"],
                    swiftSettings: strict),
        // Validates and plans every checked-in recipe from the catalogue alone: proof that no engine is needed.
        .testTarget(name: "StageSpecsTests", dependencies: ["StageSpecs", "Hyperparameters", "DataSpecs", "Pipeline", "RecipeSpec"],
                    swiftSettings: strict),
        .testTarget(name: "EnginesTests", dependencies: ["Engines", "Pipeline", "RecipeSpec", "Stages", "StageSpecs", "Preference", "Randomness"],
                    exclude: ["Fixtures", "Golden"], swiftSettings: strict),
        .testTarget(name: "StagesTests", dependencies: ["Stages", "StageSpecs", "Pipeline", "RecipeSpec", "Preference", "Randomness", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PreflabTests", dependencies: ["preflab", "Stages", "StageSpecs", "RecipeSpec", "Pipeline", "PipelineFakes", "TestSupport", "Tensor"],
                    resources: [.copy("Golden")],
                    swiftSettings: strict),
    ],
    swiftLanguageModes: [.v5]
)
