"""Where a friend's face points land on a crowd face, and the piecewise-affine warp that puts them there."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator
from scipy.spatial import Delaunay

from .faces import Face
from .landmarks import MESH_TO_68

FOREHEAD_LIFT = 0.3
# Brows, nose, eyes and mouth; how far they follow the friend's own layout rather than the target's.
# Measured on the 13 stadium.jpg swaps (still detected / nearer the friend): weight 0.7-0.8 with lift 0.3 gave
# 13/13 and 13/13; lift 0.2 lost one nearer-the-friend; weight 0.9 with lift 0.3 lost one detection.
INNER_POINTS = slice(17, 68)
INNER_WEIGHT = 0.8
TURNED_FRONTALNESS = 0.5  # below this frontalness the target's own layout gradually takes over
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)
# The lips keep part of the target's shape (its expression): a friend's smile on a shouting face is the first thing
# a viewer notices, and the mouth carries less of who someone is than the eyes and nose.
OUTER_LIPS_WEIGHT = 0.5
# No source triangle is magnified more than this (in area) onto the target.
MAX_STRETCH = 30.0
# MediaPipe Face Mesh's outline (face oval), in the mesh's own point order: it reaches the hairline.
MESH_OVAL = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
]  # fmt: skip


# The mesh vertices that are not one of the 68 landmarks: the mesh path warps the 68 and these, each vertex once.
MESH_REST = np.setdiff1d(np.arange(468), MESH_TO_68)
# A mesh further than this (px, mean) from the face's 68 landmarks is not that face's (a face moved or rescaled
# without its mesh): the warp then uses the 68 alone.
MESH_AGREEMENT_PX = 1.0


def mesh_of(face: Face) -> np.ndarray | None:
    """Return the dense mesh (468 x 2 image points) of ``face`` when it has one that agrees with its landmarks."""
    mesh = getattr(face, "mesh", None)
    if mesh is None:
        return None
    points = np.asarray(mesh, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != 468 or points.shape[1] < 2:
        return None
    landmarks = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    if float(np.linalg.norm(points[MESH_TO_68, :2] - landmarks, axis=1).mean()) > MESH_AGREEMENT_PX:
        return None
    return points[:, :2]


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    matrix, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), dst.astype(np.float32), method=cv2.LMEDS)
    return matrix


def destination_points(
    src: np.ndarray, target: np.ndarray, target_frontalness: float = 1.0, *, target_mouth: bool = False
) -> np.ndarray:
    """Return where each of the 68 source landmarks goes: the jaw on the target's, inner features the friend's shape.

    With ``target_mouth`` the inner lips take the target's own (an open mouth whose interior the target keeps).
    """
    # Warping every point onto the target's landmarks would give the friend the stranger's eyes, nose and mouth
    # geometry, and recognisers (people and dlib) read identity mostly from that geometry. So the inner features
    # follow the friend's own layout, placed by a similarity fit, and only the outline follows the target's head.
    matrix = _similarity(src, target)
    if matrix is None:
        return target.copy()
    aligned = src @ matrix[:, :2].T + matrix[:, 2]
    # A flat similarity fit cannot follow a head turned away: there the features keep closer to the target's own
    # layout, or the far eye and mouth corner would float off the face.
    weight = INNER_WEIGHT * float(np.clip(target_frontalness / TURNED_FRONTALNESS, 0.0, 1.0))
    points = target.copy()
    points[INNER_POINTS] = weight * aligned[INNER_POINTS] + (1.0 - weight) * target[INNER_POINTS]
    lips = min(weight, OUTER_LIPS_WEIGHT)
    points[OUTER_LIPS] = lips * aligned[OUTER_LIPS] + (1.0 - lips) * target[OUTER_LIPS]
    if target_mouth:
        points[INNER_LIPS] = target[INNER_LIPS]
    else:
        points[INNER_LIPS] = lips * aligned[INNER_LIPS] + (1.0 - lips) * target[INNER_LIPS]
    return points


def mesh_destination(src_mesh: np.ndarray, target_mesh: np.ndarray, dst_68: np.ndarray) -> np.ndarray:
    """Return where each source mesh vertex goes: the 68 where ``dst_68`` puts them, the oval on the target's.

    Every other vertex moves as its neighbours do (a thin-plate spline of the displacement from the source aligned
    onto the target), so the 68 landmarks' rules (inner features the friend's layout, lips half the target's, an open
    mouth the target's own) hold across the whole mesh: no vertex is pulled two ways, no triangle folds.
    """
    matrix = _similarity(src_mesh, target_mesh)
    aligned = src_mesh if matrix is None else src_mesh @ matrix[:, :2].T + matrix[:, 2]
    fixed = {int(vertex): np.asarray(dst_68[k], dtype=np.float64) for k, vertex in enumerate(MESH_TO_68)}
    for vertex in MESH_OVAL:
        fixed.setdefault(vertex, target_mesh[vertex])
    index = np.array(list(fixed), dtype=np.intp)
    where = np.array(list(fixed.values()))
    scale = float(max(np.ptp(aligned, axis=0))) or 1.0
    # In units of the face size: the spline's system stays well conditioned whatever the face's pixel size.
    spline = RBFInterpolator(aligned[index] / scale, (where - aligned[index]) / scale, kernel="thin_plate_spline")
    points = aligned + spline(aligned / scale) * scale
    points[index] = where
    return points


def with_forehead(points: np.ndarray) -> np.ndarray:
    """Return the 68 landmarks plus 10 forehead points above the brows (dlib stops at the eyebrows)."""
    if FOREHEAD_LIFT <= 0:
        return points
    # Push each brow point away from the nose tip: the forehead and temples carry identity too.
    brows = points[17:27]
    forehead = brows + (brows - points[30]) * FOREHEAD_LIFT
    return np.vstack([points, forehead])


def _area(triangle: np.ndarray) -> float:
    """Return twice the signed area of a triangle (3 x 2)."""
    edge_a, edge_b = triangle[1] - triangle[0], triangle[2] - triangle[0]
    return float(edge_a[0] * edge_b[1] - edge_a[1] * edge_b[0])


def warp_triangles(
    source: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, out_shape: tuple[int, int]
) -> np.ndarray:
    """Return ``source`` warped piecewise-affinely so ``src_pts`` land on ``dst_pts`` (Delaunay of the target)."""
    out = np.zeros((*out_shape, source.shape[2]), dtype=np.float32)
    source_f = source.astype(np.float32)
    for simplex in Delaunay(dst_pts).simplices:
        src_tri = src_pts[simplex].astype(np.float32)
        dst_tri = dst_pts[simplex].astype(np.float32)
        x, y, w, h = cv2.boundingRect(dst_tri)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, out_shape[1]), min(y + h, out_shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        local_dst = dst_tri - np.array([x0, y0], dtype=np.float32)
        if abs(_area(local_dst)) < 1e-6:
            continue  # a degenerate triangle covers no pixel
        wanted = max(1.0, abs(_area(local_dst)) / MAX_STRETCH)
        if abs(_area(src_tri)) < wanted:
            # A closed mouth's inner lips are a line in the friend's photo; opened on the target, that line would be
            # stretched by a near-singular transform into bright streaks. Give it some height instead.
            src_tri = src_tri.copy()
            edge = src_tri[1] - src_tri[0]
            length = max(float(np.linalg.norm(edge)), 1e-3)
            normal = np.array([-edge[1], edge[0]], dtype=np.float32) / length
            side = 1.0 if _area(src_tri) >= 0 else -1.0
            src_tri[2] = src_tri[2] + normal * side * (wanted - abs(_area(src_tri))) / length
        matrix = cv2.getAffineTransform(src_tri, local_dst)
        patch = cv2.warpAffine(
            source_f, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )
        tri_mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillConvexPoly(tri_mask, np.round(local_dst).astype(np.int32), 1, lineType=cv2.LINE_8)
        region = out[y0:y1, x0:x1]
        region[tri_mask > 0] = patch[tri_mask > 0]
    return out
