;; mbrot: count the points of an n x n grid (default n = 1000) over
;; [-1.5, 0.5] x [-1, 1] that stay in the Mandelbrot set for 50 iterations
;; of z := z^2 + c (|z|^2 > 4 escapes). Double floats (the reader default is
;; set below), the same operations in the same order as the other versions.
(eval-when (:compile-toplevel :load-toplevel :execute)
  (setf *read-default-float-format* 'double-float))
(defun in-set (cr ci zr zi k)
  (if (= k 50)
      1
      (let ((zr2 (* zr zr)) (zi2 (* zi zi)))
        (if (> (+ zr2 zi2) 4.0)
            0
            (in-set cr ci (+ (- zr2 zi2) cr) (+ (* 2.0 (* zr zi)) ci) (+ k 1))))))
(defun coord (i n offset)
  (- (/ (* 2.0 (float i 1.0)) (float n 1.0)) offset))
(defun row (n y x acc)
  (if (= x n)
      acc
      (row n y (+ x 1) (+ acc (in-set (coord x n 1.5) (coord y n 1.0) 0.0 0.0 0)))))
(defun rows (n y acc)
  (if (= y n) acc (rows n (+ y 1) (+ acc (row n y 0 0)))))
(let ((n (arg-or 1000)))
  (println "mbrot " n ": " (rows n 0 0)))
