;; hof: map/filter/fold pipelines over a list of n integers (default
;; 1,000,000): for k = 1 .. 10, sum (filter (y mod 3 /= 0) (map (x*k + 1) xs)).
(defun range (n)
  (loop with acc = '() for i from (- n 1) downto 0 do (push i acc) finally (return acc)))
(defun step-sum (xs k total)
  (if (> k 10)
      total
      (step-sum xs (+ k 1)
                (+ total (reduce #'+ (remove-if-not (lambda (y) (/= (mod y 3) 0))
                                                    (mapcar (lambda (x) (+ (* x k) 1)) xs))
                                 :initial-value 0)))))
(println (step-sum (range (arg-or 1000000)) 1 0))
