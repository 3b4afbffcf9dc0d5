from apps.events import scoring


def test_dynamic_value_starts_at_initial_and_never_goes_below_minimum():
    values = [scoring.dynamic_value(initial=500, minimum=100, decay=10, solves_before=n) for n in range(15)]
    assert values[0] == 500
    assert values == sorted(values, reverse=True)
    assert values[10] == 100 and values[14] == 100


def test_chain_head_changes_when_an_answer_is_edited():
    answers = {
        "q1": {"seq": 1, "question_id": "q1", "answer": "RX{a}", "points": 10},
        "q2": {"seq": 2, "question_id": "q2", "answer": "RX{b}", "points": 5},
    }
    head = scoring.chain_next(scoring.chain_next("", answers["q1"]), answers["q2"])
    assert scoring.chain_head(answers) == head
    answers["q1"]["points"] = 1000
    assert scoring.chain_head(answers) != head
