"""The text reproductions (Table 2 on the poems, SeqGAN's successors on
COCO): configs, the matched temperature, statistics and tiny end-to-end
reproductions on the small poem and caption sets."""

import json
import subprocess

import numpy as np
import pytest
from conftest import CLI
from conftest import MAX_TABLE_COLUMNS
from conftest import markdown_tables
from scipy import stats

from seqgan_tf import cli
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import report
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.reproduce import coco
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import table2

TINY = table2.SCHEDULES["tiny"]


def test_method_configs_train_on_the_poems():
    mle = table2.method_config(TINY, "mle", 3)
    seqgan = table2.method_config(TINY, "seqgan", 3)
    assert mle.data.dataset == seqgan.data.dataset == "chinese_quatrains/small"
    assert mle.seed == seqgan.seed == 3
    assert mle.training.adversarial_rounds == 0
    assert seqgan.training.adversarial_rounds == TINY.adversarial_rounds
    # The same MLE epochs: SeqGAN's pretraining is the MLE row's training.
    assert mle.training.generator_epochs == seqgan.training.generator_epochs
    with pytest.raises(ValueError, match="Unknown method"):
        table2.method_config(TINY, "pg_bleu", 0)


def test_matched_temperature_interpolates_and_flags_the_outside():
    curve = [
        {"temperature": 0.5, "self_bleu_2": 0.9},
        {"temperature": 1.0, "self_bleu_2": 0.5},
        {"temperature": 1.5, "self_bleu_2": 0.3},
    ]
    assert table2.matched_temperature(curve, 0.7) == (
        pytest.approx(0.75),
        True,
    )
    assert table2.matched_temperature(curve[::-1], 0.4) == (
        pytest.approx(1.25),
        True,
    )
    assert table2.matched_temperature(curve, 0.95) == (0.5, False)
    assert table2.matched_temperature(curve, 0.1) == (1.5, False)


def _fake(tmp_path, seeds, missing=()):
    rng = np.random.default_rng(1)
    results = {}
    for index, method in enumerate(("mle", "mle_matched", "seqgan")):
        for seed in seeds:
            if (method, seed) in missing:
                continue
            values = rng.uniform(0.1 * index, 0.5 + 0.1 * index, 40)
            run_dir = tmp_path / method / f"seed_{seed}"
            run_dir.mkdir(parents=True)
            np.save(run_dir / table2.SEQUENCE_BLEU_FILE, values)
            results[method, seed] = {
                "bleu_2": float(values.mean()),
                "self_bleu_2": 0.3 + 0.01 * seed,
                "nll_test": 4.0,
                "curve": [
                    {
                        "temperature": t,
                        "bleu_2": 0.5,
                        "self_bleu_2": 1 - t / 2,
                    }
                    for t in (0.8, 1.0)
                ],
            }
            if method == "mle_matched":
                results[method, seed]["temperature"] = 1.1 + seed
    (tmp_path / "real").mkdir()
    real_values = rng.uniform(0.6, 0.9, 40)
    np.save(tmp_path / "real" / table2.SEQUENCE_BLEU_FILE, real_values)
    real = {"bleu_2": float(real_values.mean()), "self_bleu_2": 0.5}
    return results, real


def test_table_statistics_equal_scipy_and_missing_runs_are_marked(tmp_path):
    seeds = (0, 1, 2)
    results, real = _fake(tmp_path, seeds, missing={("mle", 1)})
    table = table2.build_table(results, real, seeds, tmp_path, TINY)
    rows = {row["method"]: row for row in table["rows"]}
    assert list(rows) == ["real", "mle", "seqgan", "mle_matched"]
    assert rows["mle"]["missing_seeds"] == [1]
    assert not rows["mle"]["complete"] and rows["seqgan"]["complete"]
    assert rows["real"]["complete"] and rows["real"]["bleu_2_sd"] is None
    temperatures = [1.1, 2.1, 3.1]
    assert rows["mle_matched"]["temperature"] == pytest.approx(
        np.mean(temperatures)
    )
    assert rows["mle_matched"]["temperature_sd"] == pytest.approx(
        stats.tstd(temperatures)
    )

    def means(method, present):
        return [results[method, s]["bleu_2"] for s in present]

    # Computed here, apart from the library: scipy on the seeds' BLEU-2.
    expected = stats.ttest_ind(
        means("seqgan", seeds), means("mle", (0, 2)), equal_var=False
    )
    assert rows["mle"]["seed_welch_p_vs_seqgan"] == pytest.approx(
        expected.pvalue
    )
    assert rows["mle"]["seed_welch_t_vs_seqgan"] == pytest.approx(
        expected.statistic
    )
    # SeqGAN against the MLE generator at its Self-BLEU-2.
    expected = stats.ttest_ind(
        means("mle_matched", seeds), means("seqgan", seeds), equal_var=False
    )
    assert rows["seqgan"]["seed_welch_p_vs_matched"] == pytest.approx(
        expected.pvalue
    )
    # The real sequences are one measurement: no seed-level test.
    assert rows["real"]["seed_welch_p_vs_seqgan"] is None
    assert rows["mle"]["seed_welch_p_vs_matched"] is None
    assert rows["seqgan"]["seed_welch_p_vs_seqgan"] is None
    assert "bleu_2" in table["statistics"]
    assert rows["seqgan"]["published_bleu_2"] == 0.7389
    table2.write_tables(table, tmp_path, TINY)
    markdown = (tmp_path / "table2.md").read_text()
    assert "2/3 (missing [1])" in markdown
    assert "p vs SeqGAN (Welch over seeds, BLEU-2)" in markdown
    assert len((tmp_path / "table2.csv").read_text().splitlines()) == 5


def test_a_text_table_of_one_seed_shows_no_p_value(tmp_path):
    results, real = _fake(tmp_path, (0,))
    table = table2.build_table(results, real, (0,), tmp_path, TINY)
    for row in table["rows"]:
        assert row["seed_welch_p_vs_seqgan"] is None
        assert row["seed_welch_p_vs_matched"] is None
    table2.write_tables(table, tmp_path, TINY)
    tables = markdown_tables((tmp_path / "table2.md").read_text())
    assert tables[1][0][1:] == [
        "paper BLEU-2",
        "p vs SeqGAN (Welch over seeds, BLEU-2)",
        "p vs MLE at its Self-BLEU-2 (Welch over seeds)",
    ]
    seqgan = next(cells for cells in tables[1][1] if cells[0] == "seqgan")
    assert seqgan == ["seqgan", "0.739", "-", "-"]
    assert tables[0][1][-1][-1] == "1/1"


def _coco_results(seeds):
    """Protocol results of every row of COCO's tiny schedule (each metric
    a distinct value), with the real sequences'."""
    schedule = coco.get_schedule("tiny")
    keys = [f"bleu_{n}" for n in schedule.bleu_orders]
    keys += [f"self_bleu_{n}" for n in schedule.self_bleu_orders]
    results = {
        (method, seed): {
            **{
                k: 0.1 * i + 0.01 * r + 0.001 * seed for i, k in enumerate(keys)
            },
            "nll_test": 1.5 + 0.01 * r,
            "temperature": 0.9 if method.startswith("mle_at_") else None,
            "curve": [],
        }
        for r, method in enumerate(schedule.rows[1:])
        for seed in seeds
    }
    real = {k: 0.05 + 0.1 * i for i, k in enumerate(keys)}
    return schedule, keys, results, real


def test_the_coco_table_puts_its_matched_order_first(tmp_path):
    seeds = (0, 1, 2)
    schedule, keys, results, real = _coco_results(seeds)
    missing = [k for k in results if k[0] in ("leakgan", "mle_at_leakgan")]
    for key in missing:
        del results[key]
    for seed in seeds:  # seqgan at Texygen's protocol
        run_dir = tmp_path / "seqgan" / f"seed_{seed}"
        run_dir.mkdir(parents=True)
        (run_dir / table2.PUBLISHED_FILE).write_text(
            json.dumps({"samples": 60, **{k: 0.5 for k in keys}})
        )
    table = table2.build_table(results, real, seeds, tmp_path, schedule)
    table2.write_tables(table, tmp_path, schedule, coco.TABLE_FILES)
    markdown = (tmp_path / "coco.md").read_text()
    tables = markdown_tables(markdown)
    for header, body in tables:
        assert len(header) <= MAX_TABLE_COLUMNS
        assert all(len(cells) == len(header) for cells in body)
        assert header[0] == "generator"
    # What the text compares on, first: BLEU-4 and Self-BLEU-4.
    key, key_rows = tables[0]
    assert key == [
        "generator",
        "BLEU-4 (mean ± sd)",
        "Self-BLEU-4 (mean ± sd)",
        "NLL-test (mean ± sd)",
        "temperature",
        "seeds",
    ]
    rows = {row["method"]: row for row in table["rows"]}
    f = common.format_value
    seqgan = next(cells for cells in key_rows if cells[0] == "seqgan")
    assert seqgan[2] == (
        f"{f(rows['seqgan']['self_bleu_4'])} ± "
        f"{f(rows['seqgan']['self_bleu_4_sd'])}"
    )
    # Every measured column is in one table, once.
    titles = [
        title.removesuffix(" (mean ± sd)")
        for header, _ in tables[:3]
        for title in header[1:]
    ]
    for label in (
        "BLEU-2",
        "BLEU-3",
        "BLEU-4",
        "BLEU-5",
        "Self-BLEU-2",
        "Self-BLEU-3",
        "Self-BLEU-4",
    ):
        assert titles.count(label) == 1, label
    # The rows no seed finished are named, not tabled.
    assert (
        "Not run yet (no seed finished): `leakgan`, `mle_at_leakgan`."
        in markdown
    )
    assert not any(
        cells[0] == "leakgan" for _, body in tables for cells in body
    )
    # At Texygen's protocol: BLEU-4 and Self-BLEU-4 first, ours (Texygen's).
    published = [t for t in tables if t[0][-1] == "seeds"][1]
    assert published[0] == ["generator", "BLEU-4", "Self-BLEU-4", "seeds"]
    seqgan = next(cells for cells in published[1] if cells[0] == "seqgan")
    assert seqgan == ["seqgan", "0.500 ± 0 (0.294)", "0.500 ± 0 (0.670)", "3"]


def test_a_text_table_committed_without_its_runs_keeps_its_rows(tmp_path):
    # As the first table2_fast was committed: the paper's BLEU-2 as
    # `paper`, the pooled per-sequence test, no run directories.
    rows = [
        {"method": "real", "seeds": 1, "bleu_2": 0.65, "bleu_2_sd": None},
        {"method": "mle", "seeds": 3, "bleu_2": 0.583, "bleu_2_sd": 0.004},
        {
            "method": "mle_matched",
            "seeds": 3,
            "bleu_2": 0.62,
            "bleu_2_sd": 0.003,
        },
        {"method": "seqgan", "seeds": 3, "bleu_2": 0.606, "bleu_2_sd": 0.015},
    ]
    for row in rows:
        row.update(
            complete=True,
            missing_seeds=[],
            self_bleu_2=0.6,
            self_bleu_2_sd=None,
            nll_test=None,
            nll_test_sd=None,
            temperature=None,
            temperature_sd=None,
            paper=table2.PAPER_TABLE2.get(row["method"], {}).get("bleu_2"),
            p_vs_seqgan=1e-24,
            t_vs_seqgan=-10.0,
        )
    (tmp_path / "table2.json").write_text(
        json.dumps({"rows": rows, "seeds": [0, 1, 2]})
    )
    table = table2.reproduce_text(
        TINY, (0, 1, 2), tmp_path, table_only=True, log=None
    )
    found = {row["method"]: row for row in table["rows"]}
    expected = stats.ttest_ind_from_stats(
        0.606, 0.015, 3, 0.62, 0.003, 3, equal_var=False
    )
    assert found["seqgan"]["seed_welch_p_vs_matched"] == pytest.approx(
        expected.pvalue
    )
    assert found["real"]["seed_welch_p_vs_seqgan"] is None
    assert found["seqgan"]["published_bleu_2"] == 0.7389
    assert all("p_vs_seqgan" not in row for row in table["rows"])
    markdown = (tmp_path / "table2.md").read_text()
    assert "| 0.739 |" in markdown  # the paper's SeqGAN BLEU-2 kept


@pytest.mark.slow
def test_reproduce_tiny_table2_writes_every_file_and_reruns(tmp_path):
    output = tmp_path / "table2"
    command = [
        *CLI,
        "reproduce",
        "table2",
        "--schedule",
        "tiny",
        "--seeds",
        "1",
        "--output",
        str(output),
        "--data-dir",
        str(tmp_path / "tfds"),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "min on this machine" in result.stdout
    for name in (*table2.TABLE_FILES, table2.PLOT_FILE):
        assert (output / name).stat().st_size > 0, name
    table = json.loads((output / "table2.json").read_text())
    assert [row["method"] for row in table["rows"]] == list(TINY.rows)
    assert all(row["complete"] for row in table["rows"])
    rows = {row["method"]: row for row in table["rows"]}
    # The matched MLE generator's Self-BLEU-2 is near SeqGAN's.
    for seed in (0,):
        matched = json.loads(
            (
                output / "mle_matched" / f"seed_{seed}" / "protocol.json"
            ).read_text()
        )
        assert matched["target_self_bleu_2"] == pytest.approx(
            json.loads(
                (
                    output / "seqgan" / f"seed_{seed}" / "protocol.json"
                ).read_text()
            )["self_bleu_2"]
        )
        assert 0.7 <= matched["temperature"] <= 1.3
    # Every poem scored: BLEU-2 in (0, 1], NLL-test of the held-out poems.
    assert 0 < rows["mle"]["bleu_2"] <= 1 and rows["mle"]["nll_test"] > 0
    page = report.write_report(output).read_text()
    assert "Table 2" in page and "<td>mle_matched</td>" in page
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (
        json.loads((output / "table2.json").read_text())["rows"]
        == (table["rows"])
    )


def test_reproduce_rejects_options_of_the_other_table(tmp_path, capsys):
    code = cli.main(
        ["reproduce", "table2", "--methods", "mle", "--output", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "--methods applies to table1" in err
    assert len(err.strip().splitlines()) == 1


def test_coco_schedules_share_the_harness_with_fixed_length_captions():
    family = coco.SCHEDULES["family"]
    assert family.rows == (
        "real",
        "mle",
        "seqgan",
        "mle_at_seqgan",
        "maligan",
        "mle_at_maligan",
        "rankgan",
        "mle_at_rankgan",
        "leakgan",
        "mle_at_leakgan",
    )
    configs = {m: table2.method_config(family, m, 1) for m in coco.METHODS}
    for method, config in configs.items():
        # Every row trains on the same fixed-length captions for as many
        # MLE epochs, whatever its models.
        assert config.data.dataset == "coco", method
        assert config.data.padding == "eos" and not config.variable_length
        assert config.training.generator_epochs == family.mle_epochs
    assert configs["leakgan"].generator.kind == "leakgan"
    assert configs["rankgan"].discriminator.kind == "ranker"
    assert configs["maligan"].training.reward == "importance"
    # LeakGAN pretrains in its own stages, the others in SeqGAN's.
    leak = table2.stage_configs(family, 1, "leakgan")
    assert all(c.generator.kind == "leakgan" for c in leak.values())
    with pytest.raises(ValueError, match="choose from"):
        table2.method_config(family, "pg_bleu", 0)
    # Texygen's values sit beside the rows they belong to.
    assert coco.TEXYGEN_COCO["leakgan"]["self_bleu_4"] == 0.848


@pytest.mark.slow
def test_eos_padding_fills_rows_and_decodes_to_the_caption():
    config = config_lib.with_overrides(
        config_lib.for_dataset(config_lib.get_preset("tiny"), "coco/small"),
        ["data.padding=eos"],
    ).validate()
    plain = config_lib.for_dataset(
        config_lib.get_preset("tiny"), "coco/small"
    ).validate()
    data = experiment.load_text(config, None, None, log=None)
    masked = experiment.load_text(plain, None, None, log=None)
    assert PAD_ID not in data.train_ids and PAD_ID not in data.test_ids
    # The same rows with EOS in place of PAD, and the same text.
    np.testing.assert_array_equal(
        np.where(masked.train_ids == PAD_ID, EOS_ID, masked.train_ids),
        data.train_ids,
    )
    assert data.tokens(data.train_ids[:5]) == masked.tokens(
        masked.train_ids[:5]
    )
    # Fixed-length models (nothing masked); LeakGAN accepts the data.
    gan = experiment.build_gan(config, None, len(data.vocabulary))
    assert gan.generator.eos_id is None
    config_lib.for_method(config, "leakgan").validate()
    with pytest.raises(config_lib.ConfigError, match="data.padding=eos"):
        config_lib.for_method(plain, "leakgan").validate()
    with pytest.raises(config_lib.ConfigError, match="needs data.add_eos"):
        config_lib.with_overrides(config, ["data.add_eos=false"]).validate()


@pytest.mark.slow
def test_reproduce_tiny_coco_matches_each_method_to_mle(tmp_path):
    output = tmp_path / "coco"
    table = coco.reproduce_coco(
        "tiny",
        (0,),
        output,
        methods=("maligan",),
        data_dir=tmp_path / "tfds",
        log=None,
    )
    assert [row["method"] for row in table["rows"]] == [
        "real",
        "mle",
        "maligan",
        "mle_at_maligan",
    ]
    for name in (*coco.TABLE_FILES, coco.PLOT_FILE):
        assert (output / name).stat().st_size > 0, name
    rows = {row["method"]: row for row in table["rows"]}
    for order in coco.BLEU_ORDERS:
        assert 0 < rows["maligan"][f"bleu_{order}"] <= 1
        assert (output / "maligan" / "seed_0" / f"bleu_{order}.npy").exists()
    for order in coco.SELF_BLEU_ORDERS:
        assert 0 <= rows["mle"][f"self_bleu_{order}"] <= 1
    matched = json.loads(
        (output / "mle_at_maligan" / "seed_0" / "protocol.json").read_text()
    )
    assert matched["target_self_bleu_4"] == rows["maligan"]["self_bleu_4"]
    assert matched["matched_to"] == "maligan"
    assert rows["maligan"]["published_bleu_2"] == 0.673
    # One seed: no seed-level test.
    assert rows["maligan"]["seed_welch_p_vs_matched"] is None
    # Beside Texygen's values: each row measured on as many samples as
    # Texygen's (Self-BLEU grows with their number).
    measured = rows["maligan"]["as_published"]
    assert measured["samples"] == coco.SCHEDULES["tiny"].published_samples
    assert measured["seeds"] == 1 and 0 < measured["bleu_2"] <= 1
    assert rows["real"]["as_published"]["self_bleu_4"] is not None
    assert "as_published" not in rows["mle_at_maligan"]
    markdown = (output / "coco.md").read_text()
    assert "At Texygen's protocol: 60 samples" in markdown
    assert "(0.673)" in markdown  # Texygen's MaliGAN BLEU-2
    page = report.write_report(output).read_text()
    assert "COCO" in page and "<td>mle_at_maligan</td>" in page
    # What is copied (no checkpoints) rebuilds the same table.
    copied = tmp_path / "copied"
    table2.copy_results(
        output,
        copied,
        coco.get_schedule("tiny"),
        (0,),
        (*coco.TABLE_FILES, coco.PLOT_FILE),
    )
    assert not list(copied.rglob("*.weights.h5"))
    assert not list(copied.rglob("checkpoints"))
    rebuilt = table2.reproduce_text(
        coco.get_schedule("tiny"),
        (0,),
        copied,
        coco.TABLE_FILES,
        coco.PLOT_FILE,
        methods=("maligan",),
        table_only=True,
    )
    assert rebuilt["rows"] == table["rows"]
