"""Command-line interface: ``seedsig simulate | normalize | score``.

The same code paths as the Snakemake rules, for use outside the pipeline. Heavy packages are
imported only inside the commands that need them, so ``seedsig --help`` starts fast.
A user mistake prints one ``seedsig: error: ...`` line and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import SeedsigError


def _cmd_simulate(args: argparse.Namespace) -> None:
    from .simulate import simulate_cohort

    truth = simulate_cohort(Path(args.out), seed=args.seed, n_samples=args.n_samples, n_genes=args.n_genes, signature_dir=args.signature_dir)
    print(f"wrote {args.out}/counts.tsv.gz, clinical.tsv, truth.json ({truth['n_genes']} genes x {truth['n_samples']} samples, seed {truth['seed']})")


def _cmd_normalize(args: argparse.Namespace) -> None:
    from .io import provenance, read_matrix, write_sidecar, write_table
    from .normalize import normalize_matrix

    df = read_matrix(args.input, what="input matrix")
    out, info = normalize_matrix(df, args.method, prior_count=args.prior_count, where=f"input matrix '{args.input}'")
    out.index.name = df.index.name or "gene_id"
    write_table(out.reset_index(), args.out, float_format="%.12g")
    write_sidecar(args.out, provenance({"method": args.method, "prior_count": args.prior_count}, inputs=[args.input], normalization=info))
    print(f"wrote {args.out} ({out.shape[0]} genes x {out.shape[1]} samples, {args.method})")


def _cmd_score(args: argparse.Namespace) -> None:
    from .ids import resolve_ids
    from .io import provenance, read_matrix, write_sidecar, write_table
    from .scoring import score
    from .signatures import load_signatures

    expr = read_matrix(args.expr, what="expression matrix")
    sigs = load_signatures(args.signatures)
    symbols = resolve_ids(list(expr.index), args.gene_id)["symbol"].tolist()
    params: dict = {}
    if args.method == "ssgsea":
        params = {"alpha": args.alpha, "normalize": args.ssgsea_normalize}
    elif args.method == "score_genes":
        params = {"random_state": args.seed}
    res = score(expr, sigs, args.method, row_symbols=symbols, min_genes=args.min_genes, min_fraction=args.min_fraction, params=params)
    table = res.scores.copy()
    table.index.name = "sample"
    write_table(table.reset_index(), args.out, float_format="%.12g")
    write_sidecar(args.out, provenance(res.provenance(), inputs=[args.expr, *args.signatures], coverage=res.coverage.to_dict("records")))
    not_scored = res.coverage.loc[~res.coverage["scored"], ["signature", "reason"]]
    for rec in not_scored.itertuples(index=False):
        print(f"seedsig: note: {rec.signature} not scored: {rec.reason}", file=sys.stderr)
    print(f"wrote {args.out} ({table.shape[0]} samples x {table.shape[1]} signatures, {args.method})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seedsig", description="Self-seeding and organ-specific metastasis signatures across tumour cohorts.")
    p.add_argument("--version", action="version", version=f"seedsig {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("simulate", help="write the built-in simulated example cohort (counts, clinical, truth)")
    s.add_argument("--out", default="resources/example", help="output directory (default: resources/example)")
    s.add_argument("--seed", type=int, default=2010)
    s.add_argument("--n-samples", type=int, default=200)
    s.add_argument("--n-genes", type=int, default=16000)
    s.add_argument("--signature-dir", default=None, help="folder with the shipped signature files (default: the repository's config/signatures)")
    s.set_defaults(func=_cmd_simulate)

    n = sub.add_parser("normalize", help="normalize a genes x samples TSV (ids unchanged, nothing filtered)")
    n.add_argument("--input", required=True, help="genes x samples TSV/CSV (first column gene id)")
    n.add_argument("--method", required=True, choices=["tmm_logcpm", "logcpm", "none"])
    n.add_argument("--out", required=True, help="output TSV")
    n.add_argument("--prior-count", type=float, default=2.0, help="edgeR cpm(log=TRUE) prior count (default 2)")
    n.set_defaults(func=_cmd_normalize)

    c = sub.add_parser("score", help="score signatures on a genes x samples TSV (every row ranked as given)")
    c.add_argument("--expr", required=True, help="genes x samples TSV/CSV of log-scale expression (first column gene id)")
    c.add_argument("--signatures", required=True, nargs="+", help="signature file(s): TSV (project format) or GMT")
    c.add_argument("--method", required=True, choices=["ssgsea", "gsva", "zscore", "plage", "singscore", "score_genes", "mean_z"])
    c.add_argument("--out", required=True, help="output TSV: column sample, then one column per signature")
    c.add_argument("--gene-id", default="symbol", choices=["symbol", "ensembl", "entrez"], help="kind of id in the first column")
    c.add_argument("--min-genes", type=int, default=2)
    c.add_argument("--min-fraction", type=float, default=0.5)
    c.add_argument("--alpha", type=float, default=0.25, help="ssgsea weight exponent (default 0.25)")
    c.add_argument("--ssgsea-normalize", action="store_true", help="divide ssgsea scores by their range over the run (cohort-relative)")
    c.add_argument("--seed", type=int, default=0, help="random_state of score_genes' control genes (default 0)")
    c.set_defaults(func=_cmd_score)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except SeedsigError as exc:
        print(f"seedsig: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
