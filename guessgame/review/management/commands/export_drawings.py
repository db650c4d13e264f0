"""manage.py export_drawings --out DIR: drawings for training and Quick, Draw! tools."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guessgame.review import export

FORMAT_CHOICES = (*export.FORMATS, "all")


def parse_formats(values: list[str] | None) -> tuple[str, ...]:
    """``--format png,ndjson`` (or repeated) -> the formats to write; npz is always one."""
    chosen = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    unknown = [name for name in chosen if name not in FORMAT_CHOICES]
    if unknown:
        raise CommandError(
            f"Unknown format {', '.join(unknown)}: choose from {', '.join(FORMAT_CHOICES)}."
        )
    if "all" in chosen:
        return export.FORMATS
    return export.check_formats(chosen)


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date; write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Export players' drawings (28x28 images, labels, ids and metadata) as drawings.npz, "
        "always, and optionally (--format png,ndjson) 28x28 PNGs with manifest.csv and the "
        "strokes as Quick, Draw! raw ndjson and, beside it, simplified ndjson (top-left, 0-255, "
        "RDP epsilon 2.0). Rejected and blank drawings are never exported; "
        "relabelled drawings carry the reviewer's label. Ordered by id, so the same data "
        "gives the same files; every file is written to a temporary name and renamed, so an "
        "interrupted run can simply be run again (PNGs no longer exported as they are, e.g. "
        "under a relabelled drawing's old label, are deleted)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            required=True,
            help="Folder to write into; created if its parent folder exists.",
        )
        parser.add_argument(
            "--status",
            action="append",
            default=None,
            help=(
                "Review status to include; repeat it or give a comma list "
                f"(default: {','.join(export.DEFAULT_STATUSES)}). 'rejected' is refused."
            ),
        )
        parser.add_argument(
            "--since", type=str, default=None, help="First day to include, YYYY-MM-DD (UTC)."
        )
        parser.add_argument(
            "--until", type=str, default=None, help="Last day to include, YYYY-MM-DD (UTC)."
        )
        parser.add_argument(
            "--format",
            action="append",
            default=None,
            help="What to write besides drawings.npz (always written): png (with "
            "manifest.csv), ndjson (Quick, Draw! raw and simplified), both as png,ndjson "
            "(or the option repeated), or all. npz alone is the default.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be exported, per label, and write nothing.",
        )

    def handle(self, *args, **options) -> None:
        from tqdm import tqdm

        statuses = [
            part.strip()
            for value in (options["status"] or [",".join(export.DEFAULT_STATUSES)])
            for part in value.split(",")
            if part.strip()
        ]
        formats = parse_formats(options["format"])
        since = parse_day(options["since"]) if options["since"] else None
        until = parse_day(options["until"]) if options["until"] else None

        def progress(rows, total):
            return tqdm(rows, total=total, desc="drawings", unit="drawing", file=self.stderr)

        try:
            result = export.export_drawings(
                out_dir=options["out"],
                statuses=statuses,
                since=since,
                until=until,
                formats=formats,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except export.ExportError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # disk full, permissions changed mid-way: one line, no trace
            raise CommandError(f"Cannot write to {options['out']}: {exc.strerror}.") from exc

        self.stdout.write("label  drawings")
        for label in range(10):
            self.stdout.write(f"{label:>5}  {result.per_label.get(label, 0):>8}")
        if result.skipped_unreadable:
            self.stdout.write(
                self.style.WARNING(f"Skipped {result.skipped_unreadable} blank or unreadable.")
            )
        if "png" in formats and not options["dry_run"]:
            self.stdout.write(
                f"PNGs: {result.pngs_written} written, {result.pngs_skipped} already there, "
                f"{result.pngs_removed} no longer exported removed."
            )
        verb = "Would export" if options["dry_run"] else "Exported"
        where = "" if options["dry_run"] else f" to {result.out_dir}"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result.count} drawings ({', '.join(formats)}){where}.")
        )
