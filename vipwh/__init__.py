"""vipwh: the analytics warehouse of the 臻选荟员 VIP membership programme."""

__version__ = "0.1.0"
