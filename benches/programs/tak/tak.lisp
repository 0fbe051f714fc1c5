;; tak: Takeuchi function tak(n, 2n/3, n/3 + i mod 2) for i = 0..9, summed.
(defun tak (x y z)
  (if (< y x)
      (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))
      z))
(defparameter *n* (arg-or 28))
(defun main-loop (n i sum)
  (if (= i 10)
      sum
      (main-loop n (+ i 1) (+ sum (tak n (truncate (* n 2) 3) (+ (truncate n 3) (rem i 2)))))))
(println (main-loop *n* 0 0))
