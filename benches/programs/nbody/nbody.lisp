;; nbody: the Benchmarks Game n-body simulation of the Sun and the four gas
;; giants (default 1,000,000 steps of 0.01 days): double-float arithmetic on
;; the slots of mutable structures (untyped slots, generic arithmetic as in
;; the other Lisps). Prints the energy before and after as
;; round(energy * 1e9); the same operations in the same order as the other
;; versions.
(eval-when (:compile-toplevel :load-toplevel :execute)
  (setf *read-default-float-format* 'double-float))
(defstruct body x y z vx vy vz mass)
(defconstant +pi+ 3.141592653589793)
(defparameter *solar-mass* (* 4.0 (* +pi+ +pi+)))
(defparameter *days-per-year* 365.24)
(defun planet (x y z vx vy vz mass)
  (make-body :x x :y y :z z :vx (* vx *days-per-year*) :vy (* vy *days-per-year*)
             :vz (* vz *days-per-year*) :mass (* mass *solar-mass*)))
(defparameter *bodies*
  (vector
   (planet 0.0 0.0 0.0 0.0 0.0 0.0 1.0)
   (planet 4.84143144246472090e+00 -1.16032004402742839e+00 -1.03622044471123109e-01
           1.66007664274403694e-03 7.69901118419740425e-03 -6.90460016972063023e-05
           9.54791938424326609e-04)
   (planet 8.34336671824457987e+00 4.12479856412430479e+00 -4.03523417114321381e-01
           -2.76742510726862411e-03 4.99852801234917238e-03 2.30417297573763929e-05
           2.85885980666130812e-04)
   (planet 1.28943695621391310e+01 -1.51111514016986312e+01 -2.23307578892655734e-01
           2.96460137564761618e-03 2.37847173959480950e-03 -2.96589568540237556e-05
           4.36624404335156298e-05)
   (planet 1.53796971148509165e+01 -2.59193146099879641e+01 1.79258772950371181e-01
           2.68067772490389322e-03 1.62824170038242295e-03 -9.51592254519715870e-05
           5.15138902046611451e-05)))
(defparameter *nbodies* (length *bodies*))

(defun offset-momentum (i px py pz)
  (if (< i *nbodies*)
      (let ((b (svref *bodies* i)))
        (offset-momentum (+ i 1)
                         (+ px (* (body-vx b) (body-mass b)))
                         (+ py (* (body-vy b) (body-mass b)))
                         (+ pz (* (body-vz b) (body-mass b)))))
      (let ((sun (svref *bodies* 0)))
        (setf (body-vx sun) (/ (- 0.0 px) *solar-mass*))
        (setf (body-vy sun) (/ (- 0.0 py) *solar-mass*))
        (setf (body-vz sun) (/ (- 0.0 pz) *solar-mass*)))))

(defun pair-energy (b j e)
  (if (< j *nbodies*)
      (let* ((c (svref *bodies* j))
             (dx (- (body-x b) (body-x c))) (dy (- (body-y b) (body-y c)))
             (dz (- (body-z b) (body-z c)))
             (dist (sqrt (+ (+ (* dx dx) (* dy dy)) (* dz dz)))))
        (pair-energy b (+ j 1) (- e (/ (* (body-mass b) (body-mass c)) dist))))
      e))

(defun energy (i e)
  (if (< i *nbodies*)
      (let ((b (svref *bodies* i)))
        (energy (+ i 1)
                (pair-energy b (+ i 1)
                             (+ e (* 0.5 (* (body-mass b)
                                            (+ (+ (* (body-vx b) (body-vx b))
                                                  (* (body-vy b) (body-vy b)))
                                               (* (body-vz b) (body-vz b)))))))))
      e))

(defun pair-advance (b j dt)
  (when (< j *nbodies*)
    (let* ((c (svref *bodies* j))
           (dx (- (body-x b) (body-x c))) (dy (- (body-y b) (body-y c)))
           (dz (- (body-z b) (body-z c)))
           (d2 (+ (+ (* dx dx) (* dy dy)) (* dz dz)))
           (mag (/ dt (* d2 (sqrt d2))))
           (cm (* (body-mass c) mag)) (bm (* (body-mass b) mag)))
      (setf (body-vx b) (- (body-vx b) (* dx cm)))
      (setf (body-vy b) (- (body-vy b) (* dy cm)))
      (setf (body-vz b) (- (body-vz b) (* dz cm)))
      (setf (body-vx c) (+ (body-vx c) (* dx bm)))
      (setf (body-vy c) (+ (body-vy c) (* dy bm)))
      (setf (body-vz c) (+ (body-vz c) (* dz bm)))
      (pair-advance b (+ j 1) dt))))

(defun move (i dt)
  (when (< i *nbodies*)
    (let ((b (svref *bodies* i)))
      (setf (body-x b) (+ (body-x b) (* dt (body-vx b))))
      (setf (body-y b) (+ (body-y b) (* dt (body-vy b))))
      (setf (body-z b) (+ (body-z b) (* dt (body-vz b))))
      (move (+ i 1) dt))))

(defun advance (i dt)
  (if (< i *nbodies*)
      (progn (pair-advance (svref *bodies* i) (+ i 1) dt)
             (advance (+ i 1) dt))
      (move 0 dt)))

(defun steps (k n)
  (when (< k n)
    (advance 0 0.01)
    (steps (+ k 1) n)))

(let ((n (arg-or 1000000)))
  (offset-momentum 0 0.0 0.0 0.0)
  (println "energy before: " (round (* (energy 0 0.0) 1e9)))
  (steps 0 n)
  (println "energy after: " (round (* (energy 0 0.0) 1e9))))
