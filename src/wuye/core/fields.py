from django.db import models


class SearchKeyField(models.CharField):
    """An indexed, normalised search key compared byte-wise.

    Prefix search runs as a range (``key >= 'zs' AND key < 'zt'``) so it uses the B-tree index on both
    databases; on PostgreSQL that needs the "C" collation, which a language collation would break by
    ignoring punctuation ('3-21' sorting beside '32-1').
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if not self.db_index:  # the default here is True: say False, or a migration would lose it
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
