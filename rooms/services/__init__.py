"""Every write about rooms, friends' photos and people: the one path shared by HTML views, the API and workers."""
