;; binary-trees (Benchmarks Game). A node is a cons (left . right); a leaf is
;; (nil . nil). Size: max depth (default 18).
(defun make (d)
  (if (= d 0)
      (cons nil nil)
      (cons (make (- d 1)) (make (- d 1)))))
(defun check (tr)
  (if (null (car tr))
      1
      (+ (+ 1 (check (car tr))) (check (cdr tr)))))
(defun pow2 (k) (if (= k 0) 1 (* 2 (pow2 (- k 1)))))
(defun sum-trees (d i iters sum)
  (if (= i iters)
      sum
      (sum-trees d (+ i 1) iters (+ sum (check (make d))))))
(defun main (n)
  (let* ((min-depth 4)
         (max-depth (max (+ min-depth 2) n))
         (stretch (+ max-depth 1)))
    (println "stretch tree of depth " stretch (code-char 9) " check: " (check (make stretch)))
    (let ((long-lived (make max-depth)))
      (loop for d from min-depth to max-depth by 2
            do (let ((iters (pow2 (+ (- max-depth d) min-depth))))
                 (println iters (code-char 9) " trees of depth " d (code-char 9) " check: "
                          (sum-trees d 0 iters 0))))
      (println "long lived tree of depth " max-depth (code-char 9) " check: " (check long-lived)))))
(main (arg-or 18))
