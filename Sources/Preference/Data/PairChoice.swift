import Foundation

/// Rows where `fields.label` was checked against `chosen_score`/`rejected_score`, and how many disagreed.
struct LabelCheck {
    var compared = 0
    var disagreed = 0
    var firstDisagreement: String?
}

extension DatasetLoader {
    /// Whether a `pair` row is swapped, and its margin: `fields.label` through `score_map` (positive keeps
    /// chosen/rejected as mapped, negative swaps, 0 is a tie), else the sign of chosen_score − rejected_score.
    /// With both, a row whose label contradicts the scores is malformed (`label_mismatch`). Nil when the
    /// row is skipped (counted); rows without either rule are kept as mapped.
    mutating func orientPair(_ r: [String: Any], _ origin: RowOrigin,
                             _ check: inout LabelCheck) throws -> (swap: Bool, margin: Double?)? {
        let f = spec.fields
        var scores: (chosen: Double, rejected: Double)?
        if let pc = f.chosenScore, let pr = f.rejectedScore,
           let x = try DataRowMapping.score(r, pc, nil), let y = try DataRowMapping.score(r, pr, nil) { scores = (x, y) }
        let byScore = scores.map { sign($0.chosen - $0.rejected) }
        var side: Double
        if let path = f.label {
            guard let s = try DataRowMapping.label(r, path, spec.scoreMap ?? [:]) else {
                try skip(.unscored, origin, "label '\(path)' is unscored")
                return nil
            }
            side = sign(s)
            if let byScore, let scores {
                check.compared += 1
                if side != byScore {
                    check.disagreed += 1
                    let msg = "label '\(path)' gives \(s) but the scores give \(scores.chosen) vs \(scores.rejected)"
                    if check.firstDisagreement == nil { check.firstDisagreement = "\(origin): \(msg)" }
                    try skip(.labelMismatch, origin, msg)
                    return nil
                }
            }
        } else if let byScore {
            side = byScore
        } else if f.chosenScore != nil {
            try skip(.unscored, origin, "chosen_score or rejected_score is null")
            return nil
        } else {
            return (false, nil)
        }
        if side == 0 && spec.filters.dropTies {
            try skip(.tie, origin, f.label.map { "label '\($0)' is a tie" } ?? "the scores are equal")
            return nil
        }
        return (side < 0, scores.map { abs($0.chosen - $0.rejected) })
    }

    /// -1, 0 or 1.
    func sign(_ x: Double) -> Double { x > 0 ? 1 : x < 0 ? -1 : 0 }

    /// Fails the load when the label contradicts the scores on most compared rows: the score_map (or
    /// chosen/rejected) is then reversed, and every kept pair would teach the opposite preference.
    func checkLabels(_ check: LabelCheck) throws {
        guard check.compared > 0, check.disagreed * 2 > check.compared else { return }
        throw DatasetError(file: entryDisplay, "fields.label disagrees with chosen_score/rejected_score on \(check.disagreed) of "
                           + "\(check.compared) rows (first: \(check.firstDisagreement ?? "?")): score_map or chosen/rejected "
                           + "look reversed")
    }
}
