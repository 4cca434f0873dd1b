from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from teams.divisions import DivisionFileError, import_divisions


class Command(BaseCommand):
    help = "导入统计用区划代码 CSV(表头 code,name,level,parent_code;可为 .gz),按代码新增或更新妇联组织。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV 文件路径(UTF-8,可 gzip 压缩)")

    def handle(self, *args, file: Path, **options):
        if not file.is_file():
            raise CommandError(f"找不到文件:{file}")
        try:
            result = import_divisions(file, progress=lambda message: self.stderr.write(f"… {message}"))
        except DivisionFileError as error:
            lines = "\n".join(f"  {file.name} 第 {line} 行: {reason}" for line, reason in error.errors)
            raise CommandError(f"文件有错误,未写入任何数据:\n{lines}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"完成:共 {result.rows:,} 行,新增 {result.created:,},更新 {result.updated:,},"
                f"未变 {result.unchanged:,};用时 {result.seconds:.2f} 秒,"
                f"每秒 {result.rows_per_second:,.0f} 行。"
            )
        )
